"""The domain's picture of a route and of what happened when a call went through one.

A route is a tenant's named, ordered list of targets (a stored credential and the model or voice
to use with it) and a policy: `failover` tries the targets in order, `balance` picks among the
healthy ones by weight and then fails over in order. A call through a route moves on only before
its first content reaches the caller; `RouteReport` says which target answered and how every
attempt ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

RoutePolicy = Literal["failover", "balance"]

# The most targets one route may name: enough for any real failover chain, few enough that a
# route can never fan one call out into many provider calls.
MAX_TARGETS = 8

# Error reasons (ErrorInfo) a call refused before reaching its provider carries, so a route can
# tell "skip this target" from a real failure: the credential is at one of its limits (or paused
# by the provider's own reset), or its circuit breaker is open.
CREDENTIAL_RATE_LIMITED = "CREDENTIAL_RATE_LIMITED"
CIRCUIT_OPEN = "CIRCUIT_OPEN"


@dataclass(frozen=True)
class RouteTarget:
    """One target: a credential of the route's tenant, and what to use it with."""

    credential_id: str
    # Empty: the request's model, else the credential's default.
    model: str = ""
    # For `balance`: the relative share of calls (at least 1).
    weight: int = 1
    # Text-to-speech only: empty means the request's voice.
    voice: str = ""


@dataclass(frozen=True)
class Route:
    id: str
    tenant_id: str
    name: str
    policy: RoutePolicy
    targets: tuple[RouteTarget, ...]
    # Seconds a target may take to its first content before the route moves on (None: no
    # deadline of the route's own).
    first_token_timeout: float | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    version: int


AttemptOutcome = Literal[
    # It answered (the last attempt of a successful call).
    "answered",
    # Skipped without a call: at its limit or paused until the provider's reset; breaker open;
    # disabled, or its provider cannot do this operation.
    "skipped_rate_limited",
    "skipped_breaker_open",
    "skipped_unavailable",
    # Called and failed before any content.
    "unreachable",
    "rate_limited",
    "provider_error",
    "first_token_timeout",
    # The provider refused the key (it is marked INVALID); the route moves on.
    "key_refused",
    # A failure that ends the call: invalid argument, content filter, a failure after content.
    "failed",
]


@dataclass(frozen=True)
class Attempt:
    """How one target of a route fared in one call."""

    target_index: int
    credential_id: str
    provider: str
    model: str
    outcome: AttemptOutcome
    # Seconds from the start of the attempt to its outcome.
    duration: float
    # The error's reason (ErrorInfo reason) when it did not answer.
    reason: str = ""


@dataclass(frozen=True)
class RouteReport:
    """Sent with the last message of a routed call."""

    route_id: str
    # The index of the target that answered; None when none did.
    answered_by: int | None
    attempts: tuple[Attempt, ...]
