"""The memory of accepted webhooks, so that a second delivery of one is reported `replayed`.

Shared by every worker and replica through Redis when it is configured (`SET NX PX`: atomic,
expiring by itself; the calls that arrive together share one pipeline); in the process
otherwise, and while Redis does not answer (one warning per outage, Redis tried again a second
later). Entries are opaque digests (no signature, nonce or tenant in clear) and live only as
long as a repetition could still pass its provider's check. The in-process memory is bounded:
past its capacity the entries closest to expiry go first, so a flood of genuine webhooks costs
memory, never an unbounded amount.
"""

from __future__ import annotations

import time
from typing import Protocol

import redis.asyncio as redis
import structlog

from integration_api.telephony.replay_batches import BatchFailed, SetIfAbsentBatches

log = structlog.get_logger("integration_api.telephony")

DEFAULT_CAPACITY = 200_000
RETRY_AFTER_OUTAGE_SECONDS = 1.0
# How often the in-process memory sweeps out expired entries (each sweep is one pass).
SWEEP_INTERVAL_SECONDS = 10.0


class ReplayMemory(Protocol):
    async def first_time(self, key: str, remember_seconds: float) -> bool:
        """Remember `key` for `remember_seconds`; True unless it was already remembered."""
        ...

    async def close(self) -> None: ...


class InProcessReplays:
    """`ReplayMemory` in this process's memory."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = max(1, capacity)
        self._expiry: dict[str, float] = {}  # key → monotonic expiry
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS

    def __len__(self) -> int:
        return len(self._expiry)

    async def first_time(self, key: str, remember_seconds: float) -> bool:
        return self.remember(key, remember_seconds)

    def remember(self, key: str, remember_seconds: float) -> bool:
        now = time.monotonic()
        expiry = self._expiry.get(key)
        if expiry is not None and expiry > now:
            return False
        self._expiry[key] = now + remember_seconds
        if now >= self._next_sweep or len(self._expiry) > self._capacity:
            self._sweep(now)
        return True

    def seen(self, key: str) -> bool:
        """Whether `key` is remembered (and not yet expired)."""
        expiry = self._expiry.get(key)
        return expiry is not None and expiry > time.monotonic()

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_INTERVAL_SECONDS
        self._expiry = {key: expiry for key, expiry in self._expiry.items() if expiry > now}
        # Down to nine tenths, so that a memory kept full sweeps once per tenth of its
        # capacity, not on every insert.
        excess = len(self._expiry) - self._capacity * 9 // 10
        if len(self._expiry) > self._capacity and excess > 0:
            log.warning("webhook replay memory full: forgetting the entries closest to expiry")
            soonest = sorted(self._expiry.items(), key=lambda item: item[1])[:excess]
            for key, _expiry in soonest:
                del self._expiry[key]

    async def close(self) -> None:
        self._expiry.clear()


class RedisReplays:
    """`ReplayMemory` in Redis, falling back to the process's own while Redis does not answer."""

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        fallback: InProcessReplays | None = None,
        max_connections: int = 50,
    ) -> None:
        self._client = client
        self._batches = SetIfAbsentBatches(client, max_connections)
        self._prefix = f"{key_prefix}webhook-replays:"
        self._fallback = fallback or InProcessReplays()
        self._down_until = 0.0

    async def first_time(self, key: str, remember_seconds: float) -> bool:
        if time.monotonic() < self._down_until:
            return self._fallback.remember(key, remember_seconds)
        milliseconds = max(1, round(remember_seconds * 1000))
        try:
            stored = await self._batches.set_if_absent(self._prefix + key, milliseconds)
        except BatchFailed as error:
            if self._down_until == 0.0:
                log.warning(
                    "redis unreachable: webhook replays remembered in this process only",
                    error_type=str(error),
                )
            self._down_until = time.monotonic() + RETRY_AFTER_OUTAGE_SECONDS
            return self._fallback.remember(key, remember_seconds)
        if self._down_until:
            log.info("redis reachable again: webhook replays remembered fleet-wide")
            self._down_until = 0.0
        # What this process accepted during the outage is still refused here.
        return stored and not self._fallback.seen(key)

    async def close(self) -> None:
        await self._batches.close()
        await self._fallback.close()
        await self._client.aclose()
