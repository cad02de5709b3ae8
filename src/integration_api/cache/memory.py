"""A bounded in-process cache with a TTL per entry, for a service run without Redis."""

from __future__ import annotations

import time
from collections import OrderedDict

from integration_api.store.models import CredentialRow


class MemoryCredentialCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, CredentialRow]] = OrderedDict()

    async def get(self, credential_id: str) -> CredentialRow | None:
        entry = self._entries.get(credential_id)
        if entry is None:
            return None
        expires_at, row = entry
        if time.monotonic() >= expires_at:
            del self._entries[credential_id]
            return None
        self._entries.move_to_end(credential_id)
        return row

    async def put(self, row: CredentialRow) -> None:
        self._entries[row.id] = (time.monotonic() + self._ttl, row)
        self._entries.move_to_end(row.id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def invalidate(self, credential_id: str) -> None:
        self._entries.pop(credential_id, None)

    async def clear(self) -> None:
        self._entries.clear()

    async def close(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
