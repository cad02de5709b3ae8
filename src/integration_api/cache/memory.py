"""A bounded in-process cache with a TTL per entry, for a service run without Redis."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable

from integration_api.credentials.cache import TOMBSTONE_SECONDS, CacheLookup, FillTicket
from integration_api.store.models import CredentialRow


class MemoryCredentialCache:
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, CredentialRow]] = OrderedDict()
        # id → (expires_at, marker); ordered by expiry because every tombstone lives as long.
        self._tombstones: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._markers = itertools.count(1)

    async def get(self, credential_id: str) -> CacheLookup:
        now = self._clock()
        entry = self._entries.get(credential_id)
        if entry is not None and now < entry[0]:
            self._entries.move_to_end(credential_id)
            return CacheLookup(entry[1], self._ticket(credential_id, now))
        if entry is not None:
            del self._entries[credential_id]
        return CacheLookup(None, self._ticket(credential_id, now))

    async def put(self, row: CredentialRow, ticket: FillTicket) -> None:
        now = self._clock()
        if ticket.credential_id != row.id or ticket.expired(now):
            return
        if self._marker(row.id, now) != ticket.marker:
            return  # invalidated since the miss: the row may be one that changed or vanished
        self._entries[row.id] = (now + self._ttl, row)
        self._entries.move_to_end(row.id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def invalidate(self, credential_id: str) -> None:
        now = self._clock()
        self._entries.pop(credential_id, None)
        self._tombstones.pop(credential_id, None)
        self._tombstones[credential_id] = (now + TOMBSTONE_SECONDS, str(next(self._markers)))
        self._forget_expired_tombstones(now)

    async def clear(self) -> None:
        # Tombstones stay: a fill racing the clear must still notice earlier invalidations.
        self._entries.clear()

    async def close(self) -> None:
        self._entries.clear()
        self._tombstones.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _ticket(self, credential_id: str, now: float) -> FillTicket:
        return FillTicket(credential_id, self._marker(credential_id, now), now)

    def _marker(self, credential_id: str, now: float) -> str:
        tombstone = self._tombstones.get(credential_id)
        if tombstone is None or now >= tombstone[0]:
            return ""
        return tombstone[1]

    def _forget_expired_tombstones(self, now: float) -> None:
        while self._tombstones:
            oldest_id, (expires_at, _marker) = next(iter(self._tombstones.items()))
            if now < expires_at:
                return
            del self._tombstones[oldest_id]
