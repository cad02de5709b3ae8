"""A budgets test's database moves: budgets set directly, spend summed as the ledger sums it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from integration_api.database import Database
from integration_api.principal import Tenant
from integration_api.store.models import AuditEvent
from integration_api.store.usage_budgets import BudgetRepository, BudgetRow
from integration_api.usage.ports import Cost
from integration_api.usage.record import CHAT, OK, UsageRecord


def new_tenant() -> Tenant:
    return Tenant("org-" + secrets.token_hex(4), "p1")


async def set_budget(
    database: Database,
    tenant: Tenant,
    *,
    unit: str,
    soft: int | None = None,
    hard: int | None = None,
    credential_id: str = "",
) -> BudgetRow:
    """A budget as SetBudget stores it (without checking the credential exists)."""
    pool = database.pool
    if credential_id:
        await pool.execute(
            """
            INSERT INTO credentials (id, organization_id, project_id, provider, name, config,
                ciphertext, key_id, secret_hint, fingerprint, status, created_by)
            VALUES ($1::uuid, $2, $3, 'openai', $4, '{}'::jsonb, '\\x00'::bytea, 'k', '', '',
                'active', 't')
            """,
            credential_id,
            tenant.organization_id,
            tenant.project_id,
            "c-" + secrets.token_hex(4),
        )

    def audit(old: BudgetRow | None, new: BudgetRow) -> AuditEvent:
        return AuditEvent("subject:test", tenant, "budget.set", "budget", new.id)

    return await BudgetRepository(pool).upsert(
        tenant, credential_id, unit, soft, hard, "subject:test", audit
    )


async def add_hourly(
    database: Database,
    tenant: Tenant,
    *,
    hour: datetime,
    credential_id: str = "",
    cost_micros: Decimal | int = 0,
    tokens: int = 0,
) -> None:
    """Adds to the tenant's hourly sums exactly as a ledger batch would."""
    await database.pool.execute(
        """
        INSERT INTO usage_hourly AS h (hour, organization_id, project_id, credential_id, route_id,
            provider, model, operation, calls, input_tokens, output_tokens, cost_micros)
        VALUES ($1, $2, $3, $4, '', 'openai', 'gpt-4o-mini', 'chat', 1, $5, 0, $6)
        ON CONFLICT (hour, organization_id, project_id, credential_id, route_id, provider, model,
            operation)
        DO UPDATE SET calls = h.calls + 1, input_tokens = h.input_tokens + EXCLUDED.input_tokens,
            cost_micros = h.cost_micros + EXCLUDED.cost_micros
        """,
        hour.replace(minute=0, second=0, microsecond=0),
        tenant.organization_id,
        tenant.project_id,
        credential_id,
        tokens,
        Decimal(cost_micros),
    )


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def record(
    tenant: Tenant, *, credential_id: str = "", tokens: int = 0, started_at: float | None = None
) -> UsageRecord:
    return UsageRecord(
        tenant=tenant,
        operation=CHAT,
        provider="openai",
        outcome=OK,
        started_at=time.time() if started_at is None else started_at,
        duration_seconds=0.01,
        credential_id=credential_id,
        model="gpt-4o-mini",
        input_tokens=tokens,
        output_tokens=0,
    )


async def write_batch(database: Database, batch: Sequence[tuple[UsageRecord, Cost]]) -> None:
    """What the ledger's flusher does with a batch: sums it into usage_hourly, one statement
    per hour and scope (the test's batches hold one or two)."""
    sums: dict[tuple[datetime, Tenant, str], tuple[Decimal, int]] = {}
    for usage, cost in batch:
        hour = datetime.fromtimestamp(usage.started_at, UTC).replace(
            minute=0, second=0, microsecond=0
        )
        key = (hour, usage.tenant, usage.credential_id)
        micros, tokens = sums.get(key, (Decimal(0), 0))
        sums[key] = (micros + cost.micros, tokens + usage.tokens)
    for (hour, tenant, credential_id), (micros, tokens) in sums.items():
        await add_hourly(
            database,
            tenant,
            hour=hour,
            credential_id=credential_id,
            cost_micros=micros,
            tokens=tokens,
        )
