"""OAuth connections as operators see them: across tenants (or within one), without tokens.

Nothing here selects the sealed tokens: the rows carry what a connection is and how it stands
(status, scopes, expiry, last refresh), never what it holds. A scope with `tenant` None spans
every tenant; callers decide who may ask for that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from integration_api.principal import Tenant
from integration_api.store.inventory import InventoryScope, Position

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

# The columns an inventory shows; the sealed tokens are deliberately not among them.
_COLUMNS = """
id, organization_id, project_id, provider, name, account_id, scopes, status, status_reason,
has_refresh_token, access_token_expires_at, last_refreshed_at, created_at, created_by,
updated_at"""

# $1, $2: organization and project (NULL: every tenant); $3: provider.
_SCOPE = """
($1::text IS NULL OR (organization_id = $1 AND project_id = $2))
AND ($3::text IS NULL OR provider = $3)"""

_PAGE = f"""
SELECT {_COLUMNS} FROM oauth_connections
WHERE {_SCOPE}
  AND ($4::text IS NULL OR status = $4)
  AND ($5::timestamptz IS NULL OR (created_at, id) > ($5, $6::uuid))
ORDER BY created_at, id
LIMIT $7"""  # noqa: S608 - composed from constants only

_AGGREGATES = f"""
SELECT provider,
       count(*) AS connections,
       count(*) FILTER (WHERE status = 'active') AS active,
       count(*) FILTER (WHERE status = 'reauthorization_required') AS reauthorization_required,
       count(*) FILTER (WHERE status = 'revoked') AS revoked,
       min(last_refreshed_at) FILTER (WHERE status = 'active') AS oldest_refresh
FROM oauth_connections WHERE {_SCOPE}
GROUP BY provider ORDER BY provider"""  # noqa: S608 - composed from constants only


@dataclass(frozen=True)
class ConnectionInventoryRow:
    id: str
    tenant: Tenant
    provider: str
    name: str
    account_id: str
    scopes: tuple[str, ...]
    status: str
    status_reason: str
    refreshable: bool
    access_token_expires_at: datetime | None
    last_refreshed_at: datetime | None
    created_at: datetime
    created_by: str
    updated_at: datetime


@dataclass(frozen=True)
class ConnectionAggregate:
    provider: str
    connections: int
    active: int
    reauthorization_required: int
    revoked: int
    oldest_refresh: datetime | None


def _row(record: asyncpg.Record) -> ConnectionInventoryRow:
    return ConnectionInventoryRow(
        id=str(record["id"]),
        tenant=Tenant(record["organization_id"], record["project_id"]),
        provider=record["provider"],
        name=record["name"],
        account_id=record["account_id"],
        scopes=tuple(record["scopes"]),
        status=record["status"],
        status_reason=record["status_reason"],
        refreshable=record["has_refresh_token"],
        access_token_expires_at=record["access_token_expires_at"],
        last_refreshed_at=record["last_refreshed_at"],
        created_at=record["created_at"],
        created_by=record["created_by"],
        updated_at=record["updated_at"],
    )


class ConnectionInventoryRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def page(
        self, scope: InventoryScope, *, status: str | None, limit: int, after: Position | None
    ) -> list[ConnectionInventoryRow]:
        """Up to `limit` connections in creation order, after `after` (None: from the start)."""
        after_time, after_id = after if after is not None else (None, None)
        records = await self._pool.fetch(
            _PAGE, *scope.arguments(), status, after_time, after_id, limit
        )
        return [_row(record) for record in records]

    async def aggregates(self, scope: InventoryScope) -> list[ConnectionAggregate]:
        records = await self._pool.fetch(_AGGREGATES, *scope.arguments())
        return [
            ConnectionAggregate(
                provider=record["provider"],
                connections=record["connections"],
                active=record["active"],
                reauthorization_required=record["reauthorization_required"],
                revoked=record["revoked"],
                oldest_refresh=record["oldest_refresh"],
            )
            for record in records
        ]


def position_of(row: ConnectionInventoryRow) -> Position:
    return row.created_at, uuid.UUID(row.id)
