"""For a speech call through a route: the order of its targets, how an attempt that did not
answer ended, whether the call moves on, and the counters of both.

A call moves on when another credential may well succeed where this one did not: the provider
could not be reached, was rate limiting or over its quota, answered 5xx or broke its stream,
took longer than the route's deadline to its first content; or it was never called (at its rate
limit, breaker open, disabled, deleted, a provider without this operation). A refused key moves
on too: the caller's request was fine, and the pipeline has marked the key INVALID. Everything
else ends the call with its error as a call naming a credential would: an invalid argument (an
audio format, a voice) or the tenant's own session and size caps would fail on every target.

The counters' `route` label is the route's id, which tenants create at will, so it is bounded
like a model label (`bounded_labels`): at most 32 routes per tenant and 512 per worker, then
`other`. `target` is a position (0 to 7), `operation` one of the three speech operations,
`outcome` an `AttemptOutcome`: every label is bounded.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from prometheus_client import Counter

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.observability.bounded_labels import BoundedLabel
from integration_api.principal import Tenant
from integration_api.providers.transport_failures import TRANSPORT_FAILURE
from integration_api.routes.model import (
    CIRCUIT_OPEN,
    CREDENTIAL_RATE_LIMITED,
    AttemptOutcome,
    Route,
    RouteTarget,
)
from integration_api.upstream.error_kinds import CREDENTIAL_REJECTED, PROVIDER_HTTP_STATUS

# Refusals before any provider call: this target cannot serve the call at all.
_UNAVAILABLE_TARGET_REASONS = frozenset(
    {"CREDENTIAL_DISABLED", "CAPABILITY_NOT_SUPPORTED", "CREDENTIAL_NOT_FOUND"}
)
# The tenant's own caps: the same on every target, so they end the call.
_CALLERS_OWN_LIMITS = frozenset(
    {
        "SPEECH_AUDIO_LIMIT",
        "SPEECH_SESSION_LIMIT",
        "SPEECH_TEXT_LIMIT",
        "TENANT_CONCURRENT_CALL_LIMIT",
    }
)

MOVES_ON: frozenset[AttemptOutcome] = frozenset(
    {
        "skipped_rate_limited",
        "skipped_breaker_open",
        "skipped_unavailable",
        "unreachable",
        "rate_limited",
        "provider_error",
        "first_token_timeout",
        "key_refused",
    }
)

FIRST_CONTENT_TIMEOUT = "ROUTE_FIRST_TOKEN_TIMEOUT"


def first_content_timeout(index: int, seconds: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"target {index} of the route produced no first content within {seconds:g} s",
        reason=FIRST_CONTENT_TIMEOUT,
    )


def outcome_of(error: ServiceError) -> AttemptOutcome:
    """How an attempt that ended with `error` before any content reached the caller fared."""
    if error.reason == FIRST_CONTENT_TIMEOUT:
        return "first_token_timeout"
    if error.reason == CREDENTIAL_RATE_LIMITED:
        return "skipped_rate_limited"
    if error.reason == CIRCUIT_OPEN:
        return "skipped_breaker_open"
    if error.reason in _UNAVAILABLE_TARGET_REASONS and PROVIDER_HTTP_STATUS not in error.metadata:
        return "skipped_unavailable"
    if isinstance(error, FailedPrecondition) and error.reason == CREDENTIAL_REJECTED:
        return "key_refused"
    if isinstance(error, ResourceExhausted):
        return "failed" if error.reason in _CALLERS_OWN_LIMITS else "rate_limited"
    if isinstance(error, Unavailable):
        return "unreachable" if TRANSPORT_FAILURE in error.metadata else "provider_error"
    if isinstance(error, DeadlineExceeded) and TRANSPORT_FAILURE in error.metadata:
        return "unreachable"
    if isinstance(error, NotFound) and PROVIDER_HTTP_STATUS not in error.metadata:
        # The route names a credential deleted since.
        return "skipped_unavailable"
    return "failed"


def ordered_targets(
    route: Route, chooser: random.Random | None = None
) -> Iterator[tuple[int, RouteTarget]]:
    """`failover`: the route's order. `balance`: a first target drawn by weight, then the rest
    in the route's order, so a failing provider moves calls to a predictable next target."""
    indexes = list(range(len(route.targets)))
    if route.policy == "balance" and len(indexes) > 1:
        weights = [max(1, target.weight) for target in route.targets]
        first = (chooser or _shared_chooser).choices(indexes, weights=weights)[0]
        indexes.remove(first)
        indexes.insert(0, first)
    for index in indexes:
        yield index, route.targets[index]


# Not for secrets: it only spreads load.
_shared_chooser = random.Random()

ROUTE_LABELS = BoundedLabel(per_tenant=32, max_values=512)

ATTEMPTS = Counter(
    "integration_api_speech_route_attempts_total",
    "Targets tried by speech calls through a route, by how each attempt ended.",
    ["route", "target", "operation", "outcome"],
)
FAILOVERS = Counter(
    "integration_api_speech_route_failovers_total",
    "Speech calls through a route that moved on from this target to the next one.",
    ["route", "target", "operation"],
)


def route_label(tenant: Tenant, route_id: str) -> str:
    return ROUTE_LABELS.value(tenant, "speech-routes", route_id)


def count_attempt(route: str, target: int, operation: str, outcome: AttemptOutcome) -> None:
    ATTEMPTS.labels(route, str(target), operation, outcome).inc()


def count_failover(route: str, target: int, operation: str) -> None:
    FAILOVERS.labels(route, str(target), operation).inc()
