"""Credentials as operators see them: across tenants (or within one), with a derived status.

The effective status is computed here, in one SQL expression, so the inventory can filter and
count by it:

- DISABLED: the credential is disabled (whatever its checks say);
- UNKNOWN: never checked, or its secret was replaced since the last check;
- STALE: the last check is older than `stale_before`;
- HEALTHY / DEGRADED / UNHEALTHY: the last check found it valid / could not reach the provider /
  saw the provider reject it.

A scope with `tenant` None spans every tenant; callers decide who may ask for that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from integration_api.principal import Tenant
from integration_api.store.credential_rows import credential_from_record
from integration_api.store.models import CredentialRow

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

# Where a keyset page ends: the last row's creation time and id.
Position = tuple[datetime, uuid.UUID]

EFFECTIVE_STATUSES = ("healthy", "degraded", "unhealthy", "disabled", "unknown", "stale")

_EFFECTIVE = """
CASE
    WHEN status = 'disabled' THEN 'disabled'
    WHEN last_check_at IS NULL THEN 'unknown'
    WHEN last_check_at < $4 THEN 'stale'
    WHEN last_check_outcome = 'valid' THEN 'healthy'
    WHEN last_check_outcome = 'unreachable' THEN 'degraded'
    ELSE 'unhealthy'
END"""

# $1, $2: organization and project (NULL: every tenant); $3: provider.
_SCOPE = """
($1::text IS NULL OR (organization_id = $1 AND project_id = $2))
AND ($3::text IS NULL OR provider = $3)"""

_PAGE = f"""
SELECT *, {_EFFECTIVE} AS effective_status FROM credentials
WHERE {_SCOPE}
  AND ($5::text IS NULL OR {_EFFECTIVE} = $5)
  AND ($6::timestamptz IS NULL OR (created_at, id) > ($6, $7::uuid))
ORDER BY created_at, id
LIMIT $8"""  # noqa: S608 - composed from constants only

_AGGREGATES = f"""
SELECT provider,
       count(*) AS credentials,
       count(*) FILTER (WHERE status = 'active') AS active,
       count(*) FILTER (WHERE status = 'unverified') AS unverified,
       count(*) FILTER (WHERE status = 'disabled') AS disabled,
       count(*) FILTER (WHERE last_check_outcome IN ('invalid', 'unreachable')) AS failing,
       min(coalesce(rotated_at, created_at)) AS oldest_rotation
FROM credentials WHERE {_SCOPE}
GROUP BY provider ORDER BY provider"""  # noqa: S608 - composed from constants only

_FIND = "SELECT * FROM credentials WHERE id = $1"

_DUE = """
SELECT * FROM credentials
WHERE status <> 'disabled' AND (last_check_at IS NULL OR last_check_at < $1)
ORDER BY last_check_at NULLS FIRST, id
LIMIT $2"""

_MATCHING = f"""
SELECT * FROM credentials WHERE {_SCOPE} AND ($4::boolean OR status <> 'disabled')
ORDER BY created_at, id"""  # noqa: S608 - composed from constants only


@dataclass(frozen=True)
class InventoryScope:
    """Which credentials: one tenant's (or all, when None), optionally of one provider."""

    tenant: Tenant | None
    provider: str | None = None

    def arguments(self) -> tuple[str | None, str | None, str | None]:
        if self.tenant is None:
            return None, None, self.provider
        return self.tenant.organization_id, self.tenant.project_id, self.provider


@dataclass(frozen=True)
class InventoryRow:
    credential: CredentialRow
    effective_status: str


@dataclass(frozen=True)
class ProviderAggregate:
    provider: str
    credentials: int
    active: int
    unverified: int
    disabled: int
    failing: int
    oldest_rotation: datetime | None


class InventoryRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def page(
        self,
        scope: InventoryScope,
        *,
        stale_before: datetime,
        effective_status: str | None,
        limit: int,
        after: Position | None,
    ) -> list[InventoryRow]:
        """Up to `limit` credentials in creation order, after `after` (None: from the start)."""
        after_time, after_id = after if after is not None else (None, None)
        records = await self._pool.fetch(
            _PAGE,
            *scope.arguments(),
            stale_before,
            effective_status,
            after_time,
            after_id,
            limit,
        )
        return [
            InventoryRow(credential_from_record(record), record["effective_status"])
            for record in records
        ]

    async def aggregates(self, scope: InventoryScope) -> list[ProviderAggregate]:
        records = await self._pool.fetch(_AGGREGATES, *scope.arguments())
        return [
            ProviderAggregate(
                provider=record["provider"],
                credentials=record["credentials"],
                active=record["active"],
                unverified=record["unverified"],
                disabled=record["disabled"],
                failing=record["failing"],
                oldest_rotation=record["oldest_rotation"],
            )
            for record in records
        ]

    async def matching(
        self, scope: InventoryScope, *, include_disabled: bool
    ) -> list[CredentialRow]:
        """Every credential in the scope (for bulk actions), in creation order."""
        records = await self._pool.fetch(_MATCHING, *scope.arguments(), include_disabled)
        return [credential_from_record(record) for record in records]

    async def find(self, credential_id: str) -> CredentialRow | None:
        """The credential with this id in whichever tenant holds it (operators only)."""
        try:
            credential_uuid = uuid.UUID(credential_id)
        except ValueError:
            return None
        record = await self._pool.fetchrow(_FIND, credential_uuid)
        return credential_from_record(record) if record is not None else None

    async def due_for_check(self, checked_before: datetime, limit: int) -> list[CredentialRow]:
        """Enabled credentials not checked since `checked_before`, the longest-unchecked first."""
        records = await self._pool.fetch(_DUE, checked_before, limit)
        return [credential_from_record(record) for record in records]


def position_of(row: InventoryRow) -> Position:
    return row.credential.created_at, uuid.UUID(row.credential.id)


_STATUS_COUNTS = f"""
SELECT provider, {_EFFECTIVE.replace("$4", "$1")} AS effective_status, count(*) AS n
FROM credentials GROUP BY 1, 2"""  # noqa: S608 - composed from constants only


async def effective_status_counts(
    pool: ConnectionPool, stale_before: datetime
) -> dict[tuple[str, str], int]:
    """Credentials per (provider, effective status) across every tenant."""
    records = await pool.fetch(_STATUS_COUNTS, stale_before)
    return {(record["provider"], record["effective_status"]): record["n"] for record in records}
