"""Monthly partitions: created ahead, rows caught by the default moved in, old ones dropped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from integration_api.errors import Unavailable
from integration_api.principal import Tenant
from integration_api.store.database import ConnectionPool, create_pool
from integration_api.store.migrate import apply_migrations
from integration_api.store.usage_partitions import maintain_partitions
from integration_api.store.usage_records import write_usage_batch
from integration_api.usage.partitions import PartitionKeeper
from integration_api.usage.ports import Cost
from integration_api.usage.rows import usage_row
from tests.usage.conftest import chat_record


@pytest.fixture
async def fresh_usage_pool(empty_database_dsn: str) -> AsyncIterator[ConnectionPool]:
    pool = await create_pool(empty_database_dsn, min_size=1, max_size=4)
    await apply_migrations(pool)
    yield pool
    await pool.close()


async def _partitions(pool: ConnectionPool) -> list[str]:
    rows = await pool.fetch(
        "SELECT child.relname AS name FROM pg_inherits"
        " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
        " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
        " WHERE parent.relname = 'usage_records' ORDER BY 1"
    )
    return [row["name"] for row in rows]


async def _write_at(pool: ConnectionPool, tenant: Tenant, when: datetime) -> None:
    record = chat_record(tenant, started_at=when.timestamp())
    await write_usage_batch(pool, [usage_row(record, Cost(Decimal(1)), uuid.uuid4())])


async def test_partitions_are_created_ahead_and_take_the_rows_the_default_caught(
    fresh_usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    pool = fresh_usage_pool
    # A year ahead of the migration's partitions: the default partition catches the row.
    ahead = datetime.now(UTC).replace(day=15, hour=12)
    later = ahead.replace(year=ahead.year + 1)
    await _write_at(pool, tenant, later)
    today = later.date()
    work = await maintain_partitions(pool, months_ahead=2, retention_months=0, today=today)
    assert len(work.created) == 3
    name = f"usage_records_{later.year:04d}_{later.month:02d}"
    assert name in work.created
    assert await pool.fetchval(f'SELECT count(*) FROM "{name}"') == 1
    assert await pool.fetchval("SELECT count(*) FROM usage_records_default") == 0
    # Idempotent: a second round finds nothing to do.
    again = await maintain_partitions(pool, months_ahead=2, retention_months=0, today=today)
    assert again.created == () and again.dropped == ()
    # The primary key holds on the new partition too: the same row again is not added.
    assert await pool.fetchval("SELECT count(*) FROM usage_records") == 1


async def test_partitions_past_retention_are_dropped_and_the_hourly_sums_kept(
    fresh_usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    pool = fresh_usage_pool
    now = datetime.now(UTC)
    await _write_at(pool, tenant, now)
    # Two years on, with 13 months kept: this month's partition goes, its sums stay.
    today = date(now.year + 2, now.month, 1)
    before = await _partitions(pool)
    work = await maintain_partitions(pool, months_ahead=2, retention_months=13, today=today)
    assert set(work.dropped) == {name for name in before if name != "usage_records_default"}
    assert await pool.fetchval("SELECT count(*) FROM usage_records") == 0
    assert await pool.fetchval("SELECT sum(calls) FROM usage_hourly") == 1
    kept = await _partitions(pool)
    assert len(kept) == 4  # the default and the three created


async def test_replicas_maintaining_at_once_do_the_work_once(
    fresh_usage_pool: ConnectionPool,
) -> None:
    today = date(datetime.now(UTC).year + 3, 1, 1)
    rounds = await asyncio.gather(
        *(maintain_partitions(fresh_usage_pool, retention_months=0, today=today) for _ in range(4))
    )
    created = [name for work in rounds for name in work.created]
    # One round created each; the others skipped (lock held) or found them there.
    assert sorted(created) == sorted(set(created))
    assert len(created) == 3
    again = await maintain_partitions(fresh_usage_pool, retention_months=0, today=today)
    assert again.created == ()


async def test_the_keeper_waits_for_the_database_then_keeps_the_partitions(
    fresh_usage_pool: ConnectionPool,
) -> None:
    reachable = False

    def pool() -> ConnectionPool:
        if not reachable:
            raise Unavailable("the database is not reachable yet")
        return fresh_usage_pool

    keeper = PartitionKeeper(pool, retention_months=13)
    assert await keeper.run_once() is False
    reachable = True
    assert await keeper.run_once() is True
    assert len(await _partitions(fresh_usage_pool)) == 4  # the default and three months
