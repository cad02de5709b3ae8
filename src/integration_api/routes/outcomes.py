"""How an attempt that did not answer ended, and whether the call moves on to the next target.

A route moves on when another credential may well succeed where this one did not: the provider
could not be reached, was rate limiting or overloaded, answered 5xx or something broken, took
longer than the route's time to first content; or the call never reached it (at its rate limit,
breaker open, disabled, deleted, a provider without this operation). A refused key moves on too:
the caller's request was fine, and the pipeline has marked the key INVALID. Everything else ends
the call with its error, as a call naming a credential would: an invalid argument (a model the
provider does not know, an audio format, a voice) or the tenant's own caps (calls in flight,
speech sessions, audio and text sizes) would fail on every target alike, and the caller's own
deadline is spent. The same rules hold for every operation a route serves, chat to speech.
"""

from __future__ import annotations

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.transport_failures import TRANSPORT_FAILURE
from integration_api.routes.model import CIRCUIT_OPEN, CREDENTIAL_RATE_LIMITED, AttemptOutcome
from integration_api.speech.pipeline import AUDIO_LIMIT, SESSION_LIMIT, TEXT_LIMIT
from integration_api.upstream.error_kinds import CREDENTIAL_REJECTED, PROVIDER_HTTP_STATUS
from integration_api.upstream.limits import ANSWER_TOO_SLOW, EVENT_GAP_TOO_LONG, TENANT_CALL_LIMIT
from integration_api.usage.ports import BUDGET_EXCEEDED

# The reason of an attempt ended by the route's own time-to-first-content deadline.
FIRST_TOKEN_TIMEOUT = "ROUTE_FIRST_TOKEN_TIMEOUT"

# Refusals before any provider call: the target cannot serve this call at all. A budget
# refusal here is its credential's (the route asks the tenant's budget before any target).
_UNAVAILABLE_TARGET_REASONS = frozenset(
    {"CREDENTIAL_DISABLED", "CAPABILITY_NOT_SUPPORTED", "CREDENTIAL_NOT_FOUND", BUDGET_EXCEEDED}
)
# The stream's own bounds on a provider's silence: the provider's failure, not the caller's.
_PROVIDER_SILENT_REASONS = frozenset({EVENT_GAP_TOO_LONG, ANSWER_TOO_SLOW})
# The tenant's own caps: the same on every target, and no provider was called, so they end the
# call like any other refusal of the caller.
_CALLERS_OWN_LIMITS = frozenset({TENANT_CALL_LIMIT, SESSION_LIMIT, AUDIO_LIMIT, TEXT_LIMIT})

# The outcomes after which the call tries its next target.
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
# The outcomes of targets never called: a balanced call still picks its next target by weight.
SKIPPED: frozenset[AttemptOutcome] = frozenset(
    {"skipped_rate_limited", "skipped_breaker_open", "skipped_unavailable"}
)


def first_token_timeout(seconds: float) -> DeadlineExceeded:
    """The error of an attempt that produced no first content within the route's deadline."""
    return DeadlineExceeded(
        f"no first content within the route's first_token_timeout ({seconds:g} s)",
        reason=FIRST_TOKEN_TIMEOUT,
    )


def outcome_of(error: ServiceError) -> AttemptOutcome:
    """The outcome of an attempt that ended with `error` before any content."""
    if error.reason == FIRST_TOKEN_TIMEOUT:
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
    if isinstance(error, DeadlineExceeded) and (
        TRANSPORT_FAILURE in error.metadata or error.reason in _PROVIDER_SILENT_REASONS
    ):
        # The provider went silent (the client's read timeout, or no event for longer than the
        # stream allows), not the caller's deadline.
        return "unreachable"
    if isinstance(error, NotFound) and PROVIDER_HTTP_STATUS not in error.metadata:
        # The route names a credential deleted since.
        return "skipped_unavailable"
    return "failed"
