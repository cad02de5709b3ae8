"""Budgets as stored, and what their tenants (or credentials) spent in a month.

Spend is read from `usage_hourly`, the ledger's hourly sums shared by every replica: one query
answers for every budget at once (each budget sums its tenant's hours of the month through the
`usage_hourly_tenant` index). Every change writes its audit event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import asyncpg

from integration_api.errors import NotFound
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.credential_rows import credential_not_found, parse_credential_id
from integration_api.store.models import AuditEvent

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

MICRO_USD = "micro_usd"
TOKENS = "tokens"
BUDGET_UNITS = (MICRO_USD, TOKENS)
SOFT = "soft"
HARD = "hard"
BUDGET_NOT_FOUND = "BUDGET_NOT_FOUND"


@dataclass(frozen=True, slots=True)
class BudgetRow:
    id: str
    tenant: Tenant
    # "": every call of the tenant counts.
    credential_id: str
    unit: str
    soft_limit: int | None
    hard_limit: int | None
    # The first day of the month whose crossing was announced (None: never).
    soft_announced_month: date | None
    hard_announced_month: date | None
    updated_by: str
    updated_at: datetime

    @property
    def scope(self) -> tuple[str, str, str]:
        return (self.tenant.organization_id, self.tenant.project_id, self.credential_id)

    def limit(self, threshold: str) -> int | None:
        return self.soft_limit if threshold == SOFT else self.hard_limit

    def announced(self, threshold: str) -> date | None:
        return self.soft_announced_month if threshold == SOFT else self.hard_announced_month


@dataclass(frozen=True, slots=True)
class BudgetSpend:
    """A budget and what its scope spent in the month asked for."""

    budget: BudgetRow
    cost_micros: Decimal
    tokens: int

    @property
    def spent(self) -> Decimal:
        """In the budget's unit, exact."""
        return self.cost_micros if self.budget.unit == MICRO_USD else Decimal(self.tokens)


def budget_not_found() -> NotFound:
    # The same answer for a malformed id, a missing one and another tenant's.
    return NotFound("budget not found", reason=BUDGET_NOT_FOUND)


_WITH_SPEND = """
SELECT b.*, s.cost_micros, s.tokens
FROM usage_budgets b
CROSS JOIN LATERAL (
    SELECT coalesce(sum(h.cost_micros), 0) AS cost_micros,
           coalesce(sum(h.input_tokens + h.output_tokens), 0)::bigint AS tokens
    FROM usage_hourly h
    WHERE h.organization_id = b.organization_id AND h.project_id = b.project_id
      AND h.hour >= $1 AND h.hour < $2
      AND (b.credential_id = '' OR h.credential_id = b.credential_id)
) s
WHERE ($3::text IS NULL OR (b.organization_id = $3 AND b.project_id = $4))
ORDER BY b.organization_id, b.project_id, b.credential_id"""

_SELECT_SCOPE = """
SELECT * FROM usage_budgets
WHERE organization_id = $1 AND project_id = $2 AND credential_id = $3
FOR UPDATE"""

# A change of unit or limit makes its threshold news again this month.
_UPSERT = """
INSERT INTO usage_budgets (id, organization_id, project_id, credential_id, unit, soft_limit,
    hard_limit, created_by, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (organization_id, project_id, credential_id) DO UPDATE SET
    unit = EXCLUDED.unit,
    soft_limit = EXCLUDED.soft_limit,
    hard_limit = EXCLUDED.hard_limit,
    updated_by = EXCLUDED.updated_by,
    updated_at = now(),
    soft_announced_month = CASE
        WHEN usage_budgets.unit = EXCLUDED.unit
         AND usage_budgets.soft_limit IS NOT DISTINCT FROM EXCLUDED.soft_limit
        THEN usage_budgets.soft_announced_month END,
    hard_announced_month = CASE
        WHEN usage_budgets.unit = EXCLUDED.unit
         AND usage_budgets.hard_limit IS NOT DISTINCT FROM EXCLUDED.hard_limit
        THEN usage_budgets.hard_announced_month END
RETURNING *"""

_OWN_CREDENTIAL = """
SELECT 1 FROM credentials
WHERE id = $1 AND organization_id = $2 AND project_id = $3
FOR KEY SHARE"""

_DELETE = "DELETE FROM usage_budgets WHERE id = $1 RETURNING *"

_GET = "SELECT * FROM usage_budgets WHERE id = $1"

# Only one replica's UPDATE matches (the row lock orders them): that one announces. The limit
# must still be the one that was crossed.
_CLAIM = {
    SOFT: """
UPDATE usage_budgets SET soft_announced_month = $2
WHERE id = $1 AND soft_announced_month IS DISTINCT FROM $2
  AND unit = $3 AND soft_limit = $4
RETURNING id""",
    HARD: """
UPDATE usage_budgets SET hard_announced_month = $2
WHERE id = $1 AND hard_announced_month IS DISTINCT FROM $2
  AND unit = $3 AND hard_limit = $4
RETURNING id""",
}


def budget_from_record(record: asyncpg.Record) -> BudgetRow:
    return BudgetRow(
        id=str(record["id"]),
        tenant=Tenant(record["organization_id"], record["project_id"]),
        credential_id=record["credential_id"],
        unit=record["unit"],
        soft_limit=record["soft_limit"],
        hard_limit=record["hard_limit"],
        soft_announced_month=record["soft_announced_month"],
        hard_announced_month=record["hard_announced_month"],
        updated_by=record["updated_by"],
        updated_at=record["updated_at"],
    )


def parse_budget_id(budget_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(budget_id)
    except (ValueError, TypeError, AttributeError):
        return None


class BudgetRepository:
    def __init__(self, pool: ConnectionPool, audit_log: AuditLog | None = None) -> None:
        self._pool = pool
        self._audit = audit_log or AuditLog(pool)

    async def with_spend(
        self, month_start: datetime, month_end: datetime, tenant: Tenant | None = None
    ) -> list[BudgetSpend]:
        """Every budget (or one tenant's) with its scope's spend in [month_start, month_end)."""
        records = await self._pool.fetch(
            _WITH_SPEND,
            month_start,
            month_end,
            tenant.organization_id if tenant else None,
            tenant.project_id if tenant else None,
        )
        return [
            BudgetSpend(budget_from_record(r), Decimal(r["cost_micros"]), int(r["tokens"]))
            for r in records
        ]

    async def upsert(
        self,
        tenant: Tenant,
        credential_id: str,
        unit: str,
        soft_limit: int | None,
        hard_limit: int | None,
        actor: str,
        audit: Callable[[BudgetRow | None, BudgetRow], AuditEvent],
    ) -> BudgetRow:
        """Sets the scope's budget (replacing any); NotFound when the credential is not the
        tenant's. `audit` makes the event from the old and new rows."""
        credential_uuid = parse_credential_id(credential_id) if credential_id else None
        if credential_id and credential_uuid is None:
            raise credential_not_found(None)
        async with self._pool.acquire() as connection, connection.transaction():
            if credential_uuid is not None:
                own = await connection.fetchval(
                    _OWN_CREDENTIAL, credential_uuid, tenant.organization_id, tenant.project_id
                )
                if own is None:
                    raise credential_not_found(credential_uuid)
            scope = (tenant.organization_id, tenant.project_id, credential_id)
            old = await connection.fetchrow(_SELECT_SCOPE, *scope)
            record = await connection.fetchrow(
                _UPSERT, uuid.uuid4(), *scope, unit, soft_limit, hard_limit, actor
            )
            if record is None:
                raise RuntimeError("INSERT ... RETURNING returned no row")
            new = budget_from_record(record)
            await self._audit.append(
                connection, audit(budget_from_record(old) if old else None, new)
            )
        return new

    async def get(self, budget_id: str) -> BudgetRow:
        budget_uuid = parse_budget_id(budget_id)
        record = await self._pool.fetchrow(_GET, budget_uuid) if budget_uuid else None
        if record is None:
            raise budget_not_found()
        return budget_from_record(record)

    async def delete(self, budget_id: str, audit: Callable[[BudgetRow], AuditEvent]) -> BudgetRow:
        budget_uuid = parse_budget_id(budget_id)
        if budget_uuid is None:
            raise budget_not_found()
        async with self._pool.acquire() as connection, connection.transaction():
            record = await connection.fetchrow(_DELETE, budget_uuid)
            if record is None:
                raise budget_not_found()
            row = budget_from_record(record)
            await self._audit.append(connection, audit(row))
        return row

    async def claim_announcement(
        self, budget: BudgetRow, threshold: str, month: date, audit: AuditEvent
    ) -> bool:
        """True for the one caller (of every replica) that announces this crossing this month;
        its audit event commits with the claim."""
        limit = budget.limit(threshold)
        if limit is None:
            return False
        async with self._pool.acquire() as connection, connection.transaction():
            claimed = await connection.fetchval(
                _CLAIM[threshold], uuid.UUID(budget.id), month, budget.unit, limit
            )
            if claimed is None:
                return False
            await self._audit.append(connection, audit)
        return True
