"""How many provider calls each tenant has in flight in this process, refused past a cap.

One tenant opening hundreds of slow streams must not take every connection and every slot of
the process from the others. The count is per process (per replica): no shared state is
needed to protect the replica's own connections. A call past the cap is refused at once with
RESOURCE_EXHAUSTED (retryable) rather than queued, so it never holds a gRPC slot while waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from integration_api.errors import ServiceError
from integration_api.principal import Tenant
from integration_api.providers.limits import DEFAULT_LIMITS, tenant_call_limit


class TenantCallLimiter:
    """Slots for provider calls, `limit` per tenant."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMITS.max_calls_per_tenant,
        refusal: Callable[[int], ServiceError] = tenant_call_limit,
    ) -> None:
        """`refusal(limit)` is the error for a call past the cap (its reason names the cap)."""
        self._limit = limit
        self._refusal = refusal
        self._in_flight: dict[Tenant, int] = {}

    def in_flight(self, tenant: Tenant) -> int:
        return self._in_flight.get(tenant, 0)

    @contextmanager
    def slot(self, tenant: Tenant) -> Iterator[None]:
        """Hold one of the tenant's slots for the block; ResourceExhausted when none is free."""
        count = self._in_flight.get(tenant, 0)
        if count >= self._limit:
            raise self._refusal(self._limit)
        self._in_flight[tenant] = count + 1
        try:
            yield
        finally:
            left = self._in_flight[tenant] - 1
            if left:
                self._in_flight[tenant] = left
            else:
                del self._in_flight[tenant]
