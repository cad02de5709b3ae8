"""The memory of accepted webhooks, so that a second delivery of one is reported `replayed`.

Shared by every worker and replica through Redis when it is configured (`SET NX PX`: atomic,
expiring by itself; the calls that arrive together share one pipeline); in the process
otherwise, and while Redis does not answer (one warning per outage, Redis tried again a second
later). Entries are opaque digests (no signature, nonce or tenant in clear) and live only as
long as a repetition could still pass its provider's check. The in-process memory is bounded:
past its capacity the scopes (tenants) holding the most entries give up theirs closest to
expiry, down to an equal share, so a flood of genuine webhooks costs memory, never an unbounded
amount, and a tenant flooding it with webhooks signed by its own secrets makes only its own
forgotten, never another's.
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
    async def first_time(self, key: str, remember_seconds: float, scope: str = "") -> bool:
        """Remember `key` for `remember_seconds`; True unless it was already remembered.

        `scope` (the tenant, as a digest) shares the memory's capacity fairly; `key` must
        already name its scope, as the keys of different scopes never compare.
        """
        ...

    async def close(self) -> None: ...


class InProcessReplays:
    """`ReplayMemory` in this process's memory."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = max(1, capacity)
        self._scopes: dict[str, dict[str, float]] = {}  # scope → key → monotonic expiry
        self._size = 0
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS

    def __len__(self) -> int:
        return self._size

    async def first_time(self, key: str, remember_seconds: float, scope: str = "") -> bool:
        return self.remember(key, remember_seconds, scope)

    def remember(self, key: str, remember_seconds: float, scope: str = "") -> bool:
        now = time.monotonic()
        entries = self._scopes.setdefault(scope, {})
        expiry = entries.get(key)
        if expiry is not None and expiry > now:
            return False
        if expiry is None:
            self._size += 1
        entries[key] = now + remember_seconds
        if now >= self._next_sweep or self._size > self._capacity:
            self._sweep(now)
        return True

    def seen(self, key: str, scope: str = "") -> bool:
        """Whether `key` is remembered (and not yet expired)."""
        expiry = self._scopes.get(scope, {}).get(key)
        return expiry is not None and expiry > time.monotonic()

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + SWEEP_INTERVAL_SECONDS
        live = {
            scope: {key: expiry for key, expiry in entries.items() if expiry > now}
            for scope, entries in self._scopes.items()
        }
        self._scopes = {scope: entries for scope, entries in live.items() if entries}
        self._size = sum(map(len, self._scopes.values()))
        if self._size > self._capacity:
            # Down to nine tenths, so that a memory kept full sweeps once per tenth of its
            # capacity, not on every insert.
            log.warning("webhook replay memory full: the largest scopes forget their oldest")
            self._trim_to(_fair_share(self._scopes, self._capacity * 9 // 10))

    def _trim_to(self, share: int) -> None:
        """Each scope holding more than `share` entries keeps its `share` latest to expire."""
        for scope, entries in self._scopes.items():
            if len(entries) > share:
                latest = sorted(entries.items(), key=lambda item: item[1])[len(entries) - share :]
                self._scopes[scope] = dict(latest)
        self._size = sum(map(len, self._scopes.values()))

    async def close(self) -> None:
        self._scopes.clear()
        self._size = 0


def _fair_share(scopes: dict[str, dict[str, float]], target: int) -> int:
    """The most entries a scope may keep so that all of them together hold at most `target`:
    scopes under it keep everything, the others are cut to it (at least one entry each)."""
    sizes = sorted(len(entries) for entries in scopes.values())
    remaining, left = target, len(sizes)
    for size in sizes:
        share = remaining // left
        if size > share:
            return max(1, share)
        remaining -= size
        left -= 1
    return max(sizes, default=1)


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

    async def first_time(self, key: str, remember_seconds: float, scope: str = "") -> bool:
        if time.monotonic() < self._down_until:
            return self._fallback.remember(key, remember_seconds, scope)
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
            return self._fallback.remember(key, remember_seconds, scope)
        if self._down_until:
            log.info("redis reachable again: webhook replays remembered fleet-wide")
            self._down_until = 0.0
        # What this process accepted during the outage is still refused here.
        return stored and not self._fallback.seen(key, scope)

    async def close(self) -> None:
        await self._batches.close()
        await self._fallback.close()
        await self._client.aclose()
