"""The call gate counted in this process: without Redis, and as each process's share while the
fleet's store does not answer.

The same rules as the fleet-wide gate (`cache.call_gate`): requests per minute over a sliding
minute, tokens per minute in one-second buckets over the last minute, concurrent calls as held
permits, a pause until the provider's reset, and the breaker of `GatePolicy`. `share` divides
every limit (at least 1 is left) for a process that stands in for its part of a fleet.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from integration_api.credentials.call_gate import (
    BreakerState,
    CallResult,
    GatePolicy,
    Permit,
    circuit_open,
    rate_limited,
)
from integration_api.credentials.model import CredentialLimits

MINUTE = 60.0
# A full concurrency limit gives no date: the caller is told to come back after this.
CONCURRENCY_RETRY_SECONDS = 1.0
# How long a window bucket of the breaker's error ratio lasts.
BUCKET_SECONDS = 5


def shared_limits(limits: CredentialLimits, share: int) -> CredentialLimits:
    """A process's part of fleet-wide limits (`share` processes): at least 1 of each set limit."""
    if share <= 1:
        return limits

    def part(value: int) -> int:
        return max(1, value // share) if value else 0

    return CredentialLimits(
        requests_per_minute=part(limits.requests_per_minute),
        tokens_per_minute=part(limits.tokens_per_minute),
        concurrent_calls=part(limits.concurrent_calls),
    )


@dataclass
class _Breaker:
    consecutive: int = 0
    open_until: float | None = None
    trial_until: float = 0.0
    # bucket start → [calls, failures]
    window: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class _Credential:
    requests: deque[float] = field(default_factory=deque)
    tokens: deque[tuple[float, int]] = field(default_factory=deque)
    # The sum of `tokens`, kept as they come and go (a busy credential holds thousands).
    tokens_total: int = 0
    held: set[str] = field(default_factory=set)
    paused_until: float = 0.0
    breaker: _Breaker = field(default_factory=_Breaker)


class LocalCallGate:
    """`CallGate` in memory (one process's view)."""

    def __init__(
        self,
        policy: GatePolicy | None = None,
        share: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy or GatePolicy()
        self._share = share
        self._clock = clock
        self._credentials: dict[str, _Credential] = {}

    async def acquire(self, credential_id: str, limits: CredentialLimits) -> Permit:
        return self.acquire_now(credential_id, limits)

    def acquire_now(self, credential_id: str, limits: CredentialLimits) -> Permit:
        now = self._clock()
        state = self._credentials.setdefault(credential_id, _Credential())
        limits = shared_limits(limits, self._share)
        if state.paused_until > now:
            raise rate_limited(state.paused_until - now, "provider_pause")
        trial = self._breaker_admits(state.breaker, now)
        self._check_limits(state, limits, now)
        permit = Permit(credential_id, secrets.token_hex(8), trial=trial, local=True)
        if limits.requests_per_minute:
            state.requests.append(now)
        if limits.concurrent_calls:
            state.held.add(permit.id)
        if trial:
            state.breaker.trial_until = now + self._policy.trial_seconds
        return permit

    def _breaker_admits(self, breaker: _Breaker, now: float) -> bool:
        """Whether the call is a half-open trial; raises while the breaker is open."""
        if breaker.open_until is None:
            return False
        if breaker.open_until > now:
            raise circuit_open(breaker.open_until - now)
        if breaker.trial_until > now:
            raise circuit_open(breaker.trial_until - now)
        return True

    def _check_limits(self, state: _Credential, limits: CredentialLimits, now: float) -> None:
        since = now - MINUTE
        while state.requests and state.requests[0] <= since:
            state.requests.popleft()
        while state.tokens and state.tokens[0][0] <= since:
            state.tokens_total -= state.tokens.popleft()[1]
        rpm = limits.requests_per_minute
        if rpm and len(state.requests) >= rpm:
            # The oldest request that must leave the minute for one more to fit.
            leaving = state.requests[len(state.requests) - rpm]
            raise rate_limited(leaving + MINUTE - now, "requests_per_minute")
        tpm = limits.tokens_per_minute
        if tpm:
            used = state.tokens_total
            if used >= tpm:
                raise rate_limited(
                    _tokens_free_at(state.tokens, used, tpm) + MINUTE - now, "tokens_per_minute"
                )
        if limits.concurrent_calls and len(state.held) >= limits.concurrent_calls:
            raise rate_limited(CONCURRENCY_RETRY_SECONDS, "concurrent_calls")

    async def release(self, permit: Permit, result: CallResult) -> None:
        self.release_now(permit, result)

    def release_now(self, permit: Permit, result: CallResult) -> None:
        now = self._clock()
        state = self._credentials.setdefault(permit.credential_id, _Credential())
        state.held.discard(permit.id)
        if result.tokens > 0:
            state.tokens.append((now, result.tokens))
            state.tokens_total += result.tokens
        pause = self._policy.pause(result.pause_seconds)
        if pause:
            state.paused_until = max(state.paused_until, now + pause)
        if self._policy.breaker_on:
            self._count(state.breaker, permit.trial, result, now)

    def _count(self, breaker: _Breaker, trial: bool, result: CallResult, now: float) -> None:
        policy = self._policy
        if result.verdict == "neutral":
            if trial:
                breaker.trial_until = 0.0
            return
        if result.verdict == "success":
            if trial or breaker.open_until is not None:
                breaker.open_until = None
                breaker.trial_until = 0.0
                breaker.window.clear()
            breaker.consecutive = 0
            self._bucket(breaker, now)[0] += 1
            return
        if trial:
            self._open(breaker, now)
            return
        breaker.consecutive += 1
        bucket = self._bucket(breaker, now)
        bucket[0] += 1
        bucket[1] += 1
        calls = sum(counts[0] for counts in breaker.window.values())
        failures = sum(counts[1] for counts in breaker.window.values())
        if breaker.consecutive >= policy.consecutive_failures or (
            calls >= policy.min_calls and failures >= policy.failure_ratio * calls
        ):
            self._open(breaker, now)

    def _open(self, breaker: _Breaker, now: float) -> None:
        breaker.open_until = now + self._policy.open_seconds
        breaker.trial_until = 0.0
        breaker.consecutive = 0
        breaker.window.clear()

    def _bucket(self, breaker: _Breaker, now: float) -> list[int]:
        start = math.floor(now / BUCKET_SECONDS) * BUCKET_SECONDS
        oldest = start - self._policy.window_seconds
        for stale in [key for key in breaker.window if key <= oldest]:
            del breaker.window[stale]
        return breaker.window.setdefault(start, [0, 0])

    async def breaker_states(self, credential_ids: Sequence[str]) -> dict[str, BreakerState]:
        now = self._clock()
        states: dict[str, BreakerState] = {}
        for credential_id in credential_ids:
            state = self._credentials.get(credential_id)
            if state is None or state.breaker.open_until is None:
                continue
            states[credential_id] = "open" if state.breaker.open_until > now else "half_open"
        return states


def _tokens_free_at(tokens: deque[tuple[float, int]], used: int, limit: int) -> float:
    """When enough of the minute's tokens have aged out for the count to fall below `limit`."""
    for moment, count in tokens:
        used -= count
        if used < limit:
            return moment
    return tokens[-1][0] if tokens else 0.0
