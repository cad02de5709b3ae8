"""The inventory: per-credential rows with their effective status, and per-provider totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from integration_api.errors import InvalidArgument
from integration_api.ops.access import visible_tenant
from integration_api.principal import Principal
from integration_api.providers.registry import get_provider
from integration_api.server.database import Database
from integration_api.store.inventory import (
    EFFECTIVE_STATUSES,
    InventoryRepository,
    InventoryRow,
    InventoryScope,
    ProviderAggregate,
)

# A check older than this many checker intervals no longer says anything about today.
STALE_AFTER_INTERVALS = 3
# When the background checker is off, checks go stale after three default intervals.
DEFAULT_INTERVAL_SECONDS = 300.0


@dataclass(frozen=True)
class InventoryQuery:
    provider: str = ""
    organization_id: str = ""
    project_id: str = ""
    effective_status: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class InventoryPage:
    aggregates: list[ProviderAggregate]
    credentials: list[InventoryRow]
    next_page_token: str


def stale_before(check_interval_seconds: float, now: datetime | None = None) -> datetime:
    interval = check_interval_seconds or DEFAULT_INTERVAL_SECONDS
    moment = now or datetime.now(UTC)
    return moment - timedelta(seconds=interval * STALE_AFTER_INTERVALS)


class Inventory:
    def __init__(self, database: Database, check_interval_seconds: float) -> None:
        self._database = database
        self._interval = check_interval_seconds

    async def page(self, principal: Principal, query: InventoryQuery) -> InventoryPage:
        if query.provider:
            get_provider(query.provider)
        if query.effective_status and query.effective_status not in EFFECTIVE_STATUSES:
            raise InvalidArgument.for_field("effective_status", "is not a known status")
        tenant = visible_tenant(principal, query.organization_id, query.project_id)
        scope = InventoryScope(tenant, query.provider or None)
        repository = InventoryRepository(self._database.pool)
        rows, next_token = await repository.page(
            scope,
            stale_before=stale_before(self._interval),
            effective_status=query.effective_status or None,
            page_size=query.page_size,
            page_token=query.page_token or None,
        )
        return InventoryPage(await repository.aggregates(scope), rows, next_token)
