"""Routes read for calls, kept in this process so a routed call costs no database round trip.

Every change to a route notifies every replica on commit (the store does that); the listener
calls `forget`, and `clear` whenever notifications may have been missed. The time to live only
bounds how long a copy could outlive a notification lost in a way the listener cannot notice.

A read that started before an invalidation does not fill the cache after it: every `forget` and
`clear` moves a generation counter, and a fill made under an older generation is dropped, so a
slow read can never put back the route an update just replaced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from integration_api.principal import Tenant
from integration_api.routes.model import Route

DEFAULT_TTL_SECONDS = 60.0
# Far more routes than one process serves; past it the oldest entries go first.
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry:
    tenant: Tenant
    route: Route
    expires_at: float


class RouteCache:
    def __init__(
        self, ttl_seconds: float = DEFAULT_TTL_SECONDS, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._entries: dict[str, _Entry] = {}
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read before loading a route from the database; hand it to `put`."""
        return self._generation

    def get(self, tenant: Tenant, route_id: str) -> Route | None:
        entry = self._entries.get(route_id)
        # The tenant is part of the key: another tenant's id finds nothing here either.
        if entry is None or entry.tenant != tenant:
            return None
        if entry.expires_at <= time.monotonic():
            self._entries.pop(route_id, None)
            return None
        return entry.route

    def put(self, tenant: Tenant, route: Route, generation: int) -> None:
        if generation != self._generation:
            return
        if len(self._entries) >= self._max_entries:
            # Insertion order: the first key is the oldest entry.
            self._entries.pop(next(iter(self._entries)))
        self._entries[route.id] = _Entry(tenant, route, time.monotonic() + self._ttl)

    async def forget(self, route_id: str) -> None:
        """Drop one route (called for every change notification; ids of other kinds of rows
        find nothing here)."""
        self._generation += 1
        self._entries.pop(route_id, None)

    async def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
