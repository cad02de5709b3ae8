"""The gate every provider call passes: a credential's limits, its provider's pauses, its breaker.

Before a pipeline calls a provider with a credential it takes a permit (`CallGate.acquire`);
when the provider request is over it gives the permit back with how it went (`release`): the
tokens the provider reported, the pause the provider's rate-limit headers asked for, and whether
the call counts for or against the credential's circuit breaker. A call the gate refuses never
reaches the provider:

| refusal                                   | status             | reason                    |
| ----------------------------------------- | ------------------ | ------------------------- |
| a limit reached, or paused by the provider | RESOURCE_EXHAUSTED | `CREDENTIAL_RATE_LIMITED` |
| the breaker is open (or its trial is out)  | UNAVAILABLE        | `CIRCUIT_OPEN`            |

both with the seconds after which the credential may be tried again (RetryInfo). A route skips
such a target instead of failing.

The implementations share every count across the fleet (`cache.call_gate`, on Redis) or keep them
in this process (`credentials.local_gate`, without Redis, and as each process's share while
Redis is down).

Each pipeline (chat, embeddings, rerank, speech, telephony call control) takes a `GatedRequest`
before each provider request and `leave`s it with the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from prometheus_client import Counter

from integration_api.credentials.model import CredentialLimits, ProviderCredential
from integration_api.errors import (
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.upstream.error_kinds import QUOTA_EXHAUSTED
from integration_api.upstream.rate_limits import AnswerWatch, watch

# The routes' names for these refusals (routes.model holds the same strings; the routes package
# sits above this one and reads them from errors, never by importing the gate).
CREDENTIAL_RATE_LIMITED = "CREDENTIAL_RATE_LIMITED"
CIRCUIT_OPEN = "CIRCUIT_OPEN"

GATE_REFUSALS = Counter(
    "integration_api_credential_gate_refusals_total",
    "Provider calls refused before the provider by their credential's gate, by provider and "
    "what was hit (requests_per_minute, tokens_per_minute, concurrent_calls, provider_pause, "
    "circuit_open).",
    ["provider", "limit"],
)

# Our own connection pool being full says nothing of the provider (`providers.transport_failures`).
_OWN_POOL_FULL = "UPSTREAM_CONNECTION_POOL_FULL"

# How a finished provider request counts for the credential's breaker.
Verdict = Literal["success", "failure", "neutral"]
BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class GatePolicy:
    """When a credential's breaker opens, how it is tried again, and how long a provider may
    pause a credential.

    It opens after `consecutive_failures` failures in a row, or when at least `min_calls` calls
    of the last `window_seconds` ended and `failure_ratio` of them failed. It stays open
    `open_seconds`; then one trial call at a time goes through (half-open): a success closes it,
    a failure opens it again. A trial that never reports frees its place after `trial_seconds`.
    """

    consecutive_failures: int = 5
    window_seconds: int = 60
    min_calls: int = 20
    failure_ratio: float = 0.5
    open_seconds: float = 30.0
    trial_seconds: float = 30.0
    # The longest pause a provider's answer may set (0: providers' pauses are not followed).
    max_pause_seconds: float = 600.0

    @property
    def breaker_on(self) -> bool:
        return self.consecutive_failures > 0

    def pause(self, seconds: float | None) -> float:
        """The pause to apply for what a provider asked (0: none)."""
        if not seconds or seconds <= 0:
            return 0.0
        return min(seconds, self.max_pause_seconds)


@dataclass(frozen=True)
class Permit:
    """A call's place at the gate, given back with `release`."""

    credential_id: str
    id: str
    # A half-open breaker's trial call: its outcome closes or re-opens the breaker.
    trial: bool = False
    # Taken from this process's share while the fleet's store did not answer.
    local: bool = False


@dataclass(frozen=True)
class CallResult:
    verdict: Verdict
    # Tokens the provider reported (input and output); counted against tokens per minute.
    tokens: int = 0
    # The provider asked not to be called with this key for so long (Retry-After, a spent window).
    pause_seconds: float | None = None


class CallGate(Protocol):
    async def acquire(self, credential_id: str, limits: CredentialLimits) -> Permit:
        """A permit for one provider request.

        Raises:
            ResourceExhausted: reason CREDENTIAL_RATE_LIMITED, with `retry_after_seconds`.
            Unavailable: reason CIRCUIT_OPEN, with `retry_after_seconds`.
        """
        ...

    async def release(self, permit: Permit, result: CallResult) -> None:
        """Gives the permit back; never raises (counts are best effort once a call is over)."""
        ...

    async def breaker_states(self, credential_ids: Sequence[str]) -> dict[str, BreakerState]:
        """The breakers that are not closed, of these credentials (an absent id is closed)."""
        ...


# What a credential hit, as ErrorInfo metadata `limit` and the refusals metric's label.
_HIT = {
    "requests_per_minute": "the credential is at its requests-per-minute limit",
    "tokens_per_minute": "the credential is at its tokens-per-minute limit",
    "concurrent_calls": "the credential is at its limit of concurrent calls",
    "provider_pause": "the provider asked not to be called with this credential until its "
    "rate limit resets",
}


def rate_limited(retry_after_seconds: float, limit: str) -> ResourceExhausted:
    """The refusal of a call over one of the credential's limits (`limit`: a key of `_HIT`)."""
    error = ResourceExhausted(
        f"{_HIT[limit]}; try again later",
        retry_after_seconds=round(max(retry_after_seconds, 0.001), 3),
        reason=CREDENTIAL_RATE_LIMITED,
    )
    error.metadata["limit"] = limit
    return error


def circuit_open(retry_after_seconds: float) -> Unavailable:
    error = Unavailable(
        "the credential's provider failed repeatedly; calls through it are paused",
        reason=CIRCUIT_OPEN,
    )
    error.retry_after_seconds = round(max(retry_after_seconds, 0.001), 3)
    return error


def verdict_of(error: BaseException | None) -> Verdict:
    """A provider that failed to answer (refused connection, 5xx, overloaded, a broken stream)
    counts against the breaker; one that answered, even with a refusal of the request or the key,
    does not, nor does a deadline (the caller's may be the short one) or a caller that left."""
    if error is None:
        return "success"
    if (
        isinstance(error, Unavailable)
        and error.provider
        and error.reason not in (CIRCUIT_OPEN, _OWN_POOL_FULL)
    ):
        return "failure"
    return "neutral"


def pause_of(error: BaseException | None, observed: float | None) -> float | None:
    """The pause a call's answers asked for, or, for a 429 whose headers were not seen (a socket),
    the delay its error carries."""
    if observed is not None:
        return observed
    if (
        isinstance(error, ResourceExhausted)
        and error.reason not in (CREDENTIAL_RATE_LIMITED, QUOTA_EXHAUSTED)
        and error.provider
        and error.retry_after_seconds
    ):
        return error.retry_after_seconds
    return None


def refused_by_gate(error: ServiceError) -> bool:
    """The gate refused the call: it never reached the provider."""
    return error.reason in (CREDENTIAL_RATE_LIMITED, CIRCUIT_OPEN)


class GatedRequest:
    """One provider request under a permit: started with `enter`, ended once with `leave`."""

    __slots__ = ("_gate", "_left", "_permit", "_watch", "tokens")

    def __init__(self, gate: CallGate, permit: Permit, answers: AnswerWatch) -> None:
        self._gate = gate
        self._permit = permit
        self._watch = answers
        self._left = False
        self.tokens = 0

    @classmethod
    async def enter(cls, gate: CallGate, credential: ProviderCredential) -> GatedRequest:
        """Takes a permit (or raises the gate's refusal) and watches the provider's answers."""
        try:
            permit = await gate.acquire(credential.id, credential.config.limits)
        except ServiceError as refusal:
            refusal.provider = credential.provider
            GATE_REFUSALS.labels(
                credential.provider, refusal.metadata.get("limit", "circuit_open")
            ).inc()
            raise
        return cls(gate, permit, watch())

    async def leave(self, error: BaseException | None = None) -> None:
        """Gives the permit back with how the request went (only the first call counts)."""
        if self._left:
            return
        self._left = True
        result = CallResult(
            verdict_of(error), self.tokens, pause_of(error, self._watch.pause_seconds)
        )
        await self._gate.release(self._permit, result)


AnswerT = TypeVar("AnswerT")


def _no_tokens(answer: object) -> int:
    return 0


async def run_gated(
    gate: CallGate,
    credential: ProviderCredential,
    request: Callable[[], Awaitable[AnswerT]],
    tokens: Callable[[AnswerT], int] = _no_tokens,
) -> AnswerT:
    """One unary provider request under a permit: the gate's refusal comes before the provider,
    and the permit goes back with how the request went and the tokens its answer used."""
    gated = await GatedRequest.enter(gate, credential)
    try:
        answer = await request()
    except BaseException as error:
        await gated.leave(error)
        raise
    gated.tokens = tokens(answer)
    await gated.leave()
    return answer
