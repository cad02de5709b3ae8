"""What routed calls need from the rest of the service."""

from __future__ import annotations

from typing import Protocol

from integration_api.principal import Tenant
from integration_api.routes.model import Route


class RouteSource(Protocol):
    """Stored routes, read for one call (the route operations offer this)."""

    async def route_for_use(self, tenant: Tenant, route_id: str) -> Route:
        """The tenant's route.

        Raises:
            NotFound: unknown id, or another tenant's route.
        """
        ...
