"""The budget guard: refusals from the hourly sums and from this process's writes, per tenant and
per credential, in money and in tokens, and the month boundary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integration_api.database import Database
from integration_api.errors import ResourceExhausted
from integration_api.store.usage_budgets import MICRO_USD, TOKENS
from integration_api.usage.budgets import Budgets
from integration_api.usage.ports import (
    BUDGET_EXCEEDED,
    FREE,
    BudgetGuard,
    Cost,
    WrittenListener,
)
from tests.budgets.support import (
    add_hourly,
    new_tenant,
    record,
    set_budget,
    this_hour,
    write_batch,
)


def _refused(guard: Budgets, tenant: object, credential_id: str = "") -> bool:
    try:
        guard.admit(tenant, credential_id)  # type: ignore[arg-type]
    except ResourceExhausted as refusal:
        assert refusal.reason == BUDGET_EXCEEDED
        return True
    return False


@pytest.mark.parametrize("unit", [MICRO_USD, TOKENS])
@pytest.mark.parametrize("per_credential", [False, True])
async def test_the_hourly_sums_crossing_the_hard_limit_refuse(
    database: Database, unit: str, per_credential: bool
) -> None:
    tenant, other_tenant = new_tenant(), new_tenant()
    credential, other_credential = str(uuid.uuid4()), str(uuid.uuid4())
    limit = 1_000_000 if unit == MICRO_USD else 1_000
    await set_budget(
        database,
        tenant,
        unit=unit,
        hard=limit,
        credential_id=credential if per_credential else "",
    )
    guard = Budgets(database, refresh_seconds=60)

    async def spend(hour: datetime, micros: Decimal, tokens: int) -> None:
        # Money budgets count cost only, token budgets tokens only: the other is noise.
        if unit == MICRO_USD:
            tokens = 10**9
        else:
            micros = Decimal(10**12)
        await add_hourly(
            database, tenant, hour=hour, credential_id=credential, cost_micros=micros, tokens=tokens
        )

    half = limit // 2
    earlier = max(this_hour() - timedelta(hours=1), this_hour().replace(day=1, hour=0))
    await spend(earlier, Decimal(half), half)
    # Money is exact: half a micro-dollar short of the limit is short of it.
    await spend(this_hour(), Decimal(half) - Decimal("0.5"), half - 1)
    await guard.refresh()
    assert not _refused(guard, tenant, credential), "just below the limit still runs"

    await spend(this_hour(), Decimal("0.5"), 1)
    await guard.refresh()
    assert _refused(guard, tenant, credential)
    # Another credential of the tenant runs when the budget is the credential's.
    assert _refused(guard, tenant, other_credential) is not per_credential
    assert _refused(guard, tenant, "") is not per_credential
    assert not _refused(guard, other_tenant, credential)


async def test_spend_from_other_credentials_counts_for_the_tenant_only(
    database: Database,
) -> None:
    tenant = new_tenant()
    credential, other = str(uuid.uuid4()), str(uuid.uuid4())
    await set_budget(database, tenant, unit=TOKENS, hard=100)
    await set_budget(database, tenant, unit=TOKENS, hard=100, credential_id=credential)
    await add_hourly(database, tenant, hour=this_hour(), credential_id=other, tokens=100)
    guard = Budgets(database, refresh_seconds=60)
    await guard.refresh()
    assert _refused(guard, tenant, credential), "the tenant's budget covers every credential"
    assert guard.spent((tenant.organization_id, tenant.project_id, credential)) == 0


async def test_this_process_refuses_its_next_call_once_its_write_crosses(
    database: Database,
) -> None:
    tenant = new_tenant()
    credential = str(uuid.uuid4())
    await set_budget(database, tenant, unit=MICRO_USD, hard=1_000, credential_id=credential)
    guard = Budgets(database, refresh_seconds=60)
    await guard.refresh()
    for micros in ("999.9", "0.1"):
        assert not _refused(guard, tenant, credential)
        # The ledger tells of a batch once it is durable.
        batch = [(record(tenant, credential_id=credential), Cost(Decimal(micros)))]
        await write_batch(database, batch)
        guard.written(batch)
    assert _refused(guard, tenant, credential), "refused at once, before any refresh"
    await guard.refresh()
    assert _refused(guard, tenant, credential), "counted once, from the database now"
    assert guard.spent((tenant.organization_id, tenant.project_id, credential)) == 1000


async def test_the_month_rolls_over_at_midnight_utc_on_the_first(database: Database) -> None:
    tenant = new_tenant()
    await set_budget(database, tenant, unit=TOKENS, hard=100)
    # A month far from now, so the real clock's month holds nothing of it.
    last_hour = datetime(2031, 1, 31, 23, tzinfo=UTC)
    first_hour = datetime(2031, 2, 1, 0, tzinfo=UTC)
    now = [last_hour.timestamp() + 3599.5]
    guard = Budgets(database, refresh_seconds=60, clock=lambda: now[0])

    await add_hourly(database, tenant, hour=last_hour, tokens=100)
    await guard.refresh()
    assert _refused(guard, tenant)

    now[0] = first_hour.timestamp()
    assert not _refused(guard, tenant), "a new month admits before the next refresh"
    await guard.refresh()
    assert not _refused(guard, tenant), "January's spend does not count in February"
    # A January call written after midnight counts for January, not February.
    guard.written([(record(tenant, tokens=500, started_at=last_hour.timestamp()), FREE)])
    assert not _refused(guard, tenant)

    await add_hourly(database, tenant, hour=first_hour, tokens=99)
    await guard.refresh()
    assert not _refused(guard, tenant)
    guard.written([(record(tenant, tokens=1, started_at=first_hour.timestamp() + 5), FREE)])
    assert _refused(guard, tenant)


async def test_an_unreachable_database_keeps_the_last_known_state(database: Database) -> None:
    tenant = new_tenant()
    await set_budget(database, tenant, unit=TOKENS, hard=10)
    await add_hourly(database, tenant, hour=this_hour(), tokens=10)
    guard = Budgets(database, refresh_seconds=60)
    await guard.refresh()
    assert _refused(guard, tenant)

    class Unreachable:
        @property
        def pool(self) -> object:
            raise ConnectionRefusedError("database down")

    guard._database = Unreachable()  # type: ignore[assignment]
    with pytest.raises(ConnectionRefusedError):
        await guard.refresh()
    assert _refused(guard, tenant), "still refused while the database is down"


async def test_a_deleted_budget_stops_refusing_at_the_next_refresh(database: Database) -> None:
    tenant = new_tenant()
    budget = await set_budget(database, tenant, unit=TOKENS, hard=10)
    await add_hourly(database, tenant, hour=this_hour(), tokens=10)
    guard = Budgets(database, refresh_seconds=60)
    await guard.refresh()
    assert _refused(guard, tenant)
    await database.pool.execute("DELETE FROM usage_budgets WHERE id = $1::uuid", budget.id)
    await guard.refresh()
    assert not _refused(guard, tenant)


def test_the_guard_is_the_pipelines_port_and_the_ledgers_listener(database: Database) -> None:
    guard = Budgets(database, refresh_seconds=60)
    # Checked by mypy: what the pipelines and the ledger are given.
    port: BudgetGuard = guard
    listener: WrittenListener = guard.written
    assert port is guard and listener == guard.written
