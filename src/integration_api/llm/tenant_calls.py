"""How many provider calls each tenant has in flight, refused past a cap.

One tenant opening hundreds of slow streams must not take every connection and every slot of
the fleet from the others. With a shared lease store (`cache.tenant_leases`, on Redis) the cap
holds across every worker and replica: each call holds a lease there for its whole length.
While the store cannot answer, and without one, each process admits its own share instead
(`share`: the cap divided by the workers of the pod, at least 1), counted in memory, so calls
keep working and a pod still cannot exceed the cap. A call past the cap is refused at once with
RESOURCE_EXHAUSTED (retryable) rather than queued, so it never holds a gRPC slot while waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from integration_api.errors import ServiceError
from integration_api.principal import Tenant
from integration_api.upstream.limits import DEFAULT_LIMITS, tenant_call_limit


class LeaseStoreUnavailable(Exception):
    """The shared store did not answer: the process falls back to its own share."""


class TenantLeases(Protocol):
    """Leases shared by every process: one per call in flight, counted per tenant and scope."""

    async def acquire(self, scope: str, tenant: Tenant, limit: int) -> str | None:
        """A lease id, or None when the tenant already holds `limit`; LeaseStoreUnavailable."""
        ...

    async def release(self, scope: str, tenant: Tenant, lease: str) -> None:
        """Gives the lease back (a lease never given back expires on its own)."""
        ...


def process_share(limit: int, workers: int) -> int:
    """A process's part of a pod-wide cap while the shared store is down: at least one call."""
    return max(1, limit // max(1, workers))


class TenantCallLimiter:
    """Slots for provider calls, `limit` per tenant across the fleet (or `share` per process)."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMITS.max_calls_per_tenant,
        refusal: Callable[[int], ServiceError] = tenant_call_limit,
        leases: TenantLeases | None = None,
        scope: str = "calls",
        share: int | None = None,
    ) -> None:
        """`refusal(limit)` is the error for a call past the cap (its reason names the cap).

        Without `leases` the cap is counted in this process alone and `share` defaults to it.
        """
        self._limit = limit
        self._refusal = refusal
        self._leases = leases
        self._scope = scope
        self._share = limit if share is None else share
        self._in_flight: dict[Tenant, int] = {}

    def in_flight(self, tenant: Tenant) -> int:
        """The tenant's calls in flight in this process."""
        return self._in_flight.get(tenant, 0)

    @asynccontextmanager
    async def slot(self, tenant: Tenant) -> AsyncIterator[None]:
        """Hold one of the tenant's slots for the block; ResourceExhausted when none is free."""
        lease = await self._admit(tenant)
        self._in_flight[tenant] = self._in_flight.get(tenant, 0) + 1
        try:
            yield
        finally:
            left = self._in_flight[tenant] - 1
            if left:
                self._in_flight[tenant] = left
            else:
                del self._in_flight[tenant]
            if lease is not None and self._leases is not None:
                await self._leases.release(self._scope, tenant, lease)

    async def _admit(self, tenant: Tenant) -> str | None:
        if self._leases is not None:
            try:
                lease = await self._leases.acquire(self._scope, tenant, self._limit)
            except LeaseStoreUnavailable:
                pass  # the process's own share below
            else:
                if lease is None:
                    raise self._refusal(self._limit)
                return lease
        if self.in_flight(tenant) >= self._share:
            raise self._refusal(self._share)
        return None
