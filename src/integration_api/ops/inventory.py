"""The inventory: credentials with their effective status and OAuth connections with theirs, per
item and as per-provider totals.

Pages run through every credential first, then every OAuth connection, each list in creation
order, under one page token. Filtering by a credential's effective status leaves connections
out; filtering by a connection's status leaves credentials out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from integration_api.database import Database
from integration_api.errors import InvalidArgument
from integration_api.oauth.registry import provider_names as oauth_provider_names
from integration_api.ops.access import visible_tenant
from integration_api.ops.inventory_cursor import (
    CONNECTIONS,
    CREDENTIALS,
    FINISHED,
    Cursor,
    cursor_from_token,
)
from integration_api.principal import Principal
from integration_api.providers.registry import PROVIDER_FIELD, PROVIDERS
from integration_api.store.connection_inventory import (
    ConnectionAggregate,
    ConnectionInventoryRepository,
    ConnectionInventoryRow,
)
from integration_api.store.connection_inventory import position_of as connection_position
from integration_api.store.inventory import (
    EFFECTIVE_STATUSES,
    InventoryRepository,
    InventoryRow,
    InventoryScope,
    ProviderAggregate,
    position_of,
)
from integration_api.store.oauth_rows import CONNECTION_STATUSES
from integration_api.store.pagination import PageTokens, page_size_or_default, query_scope

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
    connection_status: str = ""
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True)
class InventoryPage:
    aggregates: list[ProviderAggregate]
    credentials: list[InventoryRow]
    next_page_token: str
    connection_aggregates: list[ConnectionAggregate]
    connections: list[ConnectionInventoryRow]


def stale_before(check_interval_seconds: float, now: datetime | None = None) -> datetime:
    interval = check_interval_seconds or DEFAULT_INTERVAL_SECONDS
    moment = now or datetime.now(UTC)
    return moment - timedelta(seconds=interval * STALE_AFTER_INTERVALS)


def _validate(query: InventoryQuery) -> None:
    known = set(PROVIDERS) | set(oauth_provider_names())
    if query.provider and query.provider not in known:
        # The unknown id is not echoed: it came from the request and may be anything.
        listed = ", ".join(sorted(known))
        raise InvalidArgument.for_field(PROVIDER_FIELD, f"unknown provider; known: {listed}")
    if query.effective_status and query.effective_status not in EFFECTIVE_STATUSES:
        raise InvalidArgument.for_field("effective_status", "is not a known status")
    if query.connection_status and query.connection_status not in CONNECTION_STATUSES:
        raise InvalidArgument.for_field("connection_status", "is not a known status")
    if query.effective_status and query.connection_status:
        raise InvalidArgument.for_field(
            "connection_status", "filter credentials or connections by status, not both"
        )


class Inventory:
    def __init__(
        self, database: Database, check_interval_seconds: float, page_tokens: PageTokens
    ) -> None:
        self._database = database
        self._interval = check_interval_seconds
        self._page_tokens = page_tokens

    async def page(self, principal: Principal, query: InventoryQuery) -> InventoryPage:
        _validate(query)
        tenant = visible_tenant(principal, query.organization_id, query.project_id)
        scope = InventoryScope(tenant, query.provider or None)
        token_scope = query_scope(
            "inventory",
            *scope.arguments(),
            query.effective_status or None,
            query.connection_status or None,
        )
        first = CONNECTIONS if query.connection_status else CREDENTIALS
        cursor = cursor_from_token(self._page_tokens, query.page_token, token_scope, first)
        limit = page_size_or_default(query.page_size)
        credentials: list[InventoryRow] = []
        if cursor.section == CREDENTIALS:
            credentials, cursor = await self._credentials(scope, query, cursor, limit)
        connections: list[ConnectionInventoryRow] = []
        if cursor.section == CONNECTIONS and not query.effective_status:
            room = limit - len(credentials)
            connections, cursor = await self._connections(scope, query, cursor, room)
        pool = self._database.pool
        return InventoryPage(
            aggregates=await InventoryRepository(pool).aggregates(scope),
            credentials=credentials,
            next_page_token=cursor.token(self._page_tokens, token_scope),
            connection_aggregates=await ConnectionInventoryRepository(pool).aggregates(scope),
            connections=connections,
        )

    async def _credentials(
        self, scope: InventoryScope, query: InventoryQuery, cursor: Cursor, limit: int
    ) -> tuple[list[InventoryRow], Cursor]:
        """A page of credentials and where to go on: more credentials, or the connections."""
        rows = await InventoryRepository(self._database.pool).page(
            scope,
            stale_before=stale_before(self._interval),
            effective_status=query.effective_status or None,
            limit=limit + 1,
            after=cursor.after,
        )
        if len(rows) > limit:
            return rows[:limit], Cursor(CREDENTIALS, position_of(rows[limit - 1]))
        return rows, Cursor(FINISHED if query.effective_status else CONNECTIONS)

    async def _connections(
        self, scope: InventoryScope, query: InventoryQuery, cursor: Cursor, room: int
    ) -> tuple[list[ConnectionInventoryRow], Cursor]:
        """Up to `room` connections, and the cursor after them."""
        rows = await ConnectionInventoryRepository(self._database.pool).page(
            scope, status=query.connection_status or None, limit=room + 1, after=cursor.after
        )
        if len(rows) <= room:
            return rows, Cursor(FINISHED)
        kept = rows[:room]
        return kept, Cursor(CONNECTIONS, connection_position(kept[-1]) if kept else cursor.after)
