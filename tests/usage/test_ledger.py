"""The batching ledger against the real PostgreSQL: batches, outages, the bound, the drain."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from integration_api.principal import Tenant
from integration_api.store.database import ConnectionPool, create_pool
from integration_api.store.usage_records import UsageRow, write_usage_batch
from integration_api.usage.ledger import BatchingLedger, BatchWriter, LedgerSettings
from integration_api.usage.ports import Cost
from integration_api.usage.record import UsageRecord
from tests.support.tcp_proxy import TcpProxy
from tests.usage.conftest import chat_record

DROPPED = "integration_api_usage_records_dropped_total"


def _dropped(reason: str) -> float:
    return REGISTRY.get_sample_value(DROPPED, {"reason": reason}) or 0.0


async def _count(pool: ConnectionPool, tenant: Tenant) -> int:
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM usage_records WHERE organization_id = $1",
            tenant.organization_id,
        )
    )


async def _hourly_calls(pool: ConnectionPool, tenant: Tenant) -> int:
    return int(
        await pool.fetchval(
            "SELECT coalesce(sum(calls), 0) FROM usage_hourly WHERE organization_id = $1",
            tenant.organization_id,
        )
    )


def _writer(pool: ConnectionPool) -> BatchWriter:
    async def write(rows: Sequence[UsageRow]) -> int:
        return await write_usage_batch(pool, rows)

    return write


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        if await check():
            return
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


async def test_full_batches_and_the_interval_both_write(
    usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    writes: list[int] = []

    async def write(rows: Sequence[UsageRow]) -> int:
        writes.append(len(rows))
        return await write_usage_batch(usage_pool, rows)

    settings = LedgerSettings(batch_records=100, flush_interval_seconds=0.2)
    ledger = BatchingLedger(write, settings=settings)
    ledger.start()
    for _ in range(250):
        ledger.record(chat_record(tenant))
    await _eventually(lambda: _gt(_count(usage_pool, tenant), 249))
    assert sum(writes) == 250
    assert writes[:2] == [100, 100]  # whole batches at once; the rest within the interval
    await ledger.close(5.0)
    assert await _hourly_calls(usage_pool, tenant) == 250


async def _gt(value: Awaitable[int], bound: int) -> bool:
    return await value > bound


async def test_each_record_is_priced_once_and_listeners_hear_each_durable_batch(
    usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    priced: list[UsageRecord] = []

    class Pricer:
        def cost(self, record: UsageRecord) -> Cost:
            priced.append(record)
            return Cost(micros=Decimal("0.25") * (record.input_tokens or 0), price_id=None)

    heard: list[tuple[UsageRecord, Cost]] = []
    ledger = BatchingLedger(
        _writer(usage_pool),
        Pricer(),
        LedgerSettings(batch_records=10),
        listeners=[heard.extend],
    )
    ledger.start()
    for _ in range(25):
        ledger.record(chat_record(tenant, input_tokens=4))
    await ledger.close(5.0)
    assert len(priced) == 25
    assert len(heard) == 25
    assert {cost.micros for _, cost in heard} == {Decimal(1)}
    total = await usage_pool.fetchval(
        "SELECT sum(cost_micros) FROM usage_hourly WHERE organization_id = $1",
        tenant.organization_id,
    )
    assert total == Decimal(25)


async def test_the_default_pricer_marks_billable_records_unpriced(
    usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    ledger = BatchingLedger(_writer(usage_pool))
    ledger.record(chat_record(tenant))
    ledger.record(chat_record(tenant, input_tokens=None, output_tokens=None))
    await ledger.close(5.0)
    rows = await usage_pool.fetch(
        "SELECT unpriced, cost_micros FROM usage_records WHERE organization_id = $1"
        " ORDER BY unpriced",
        tenant.organization_id,
    )
    assert [(row["unpriced"], row["cost_micros"]) for row in rows] == [
        (False, Decimal(0)),
        (True, Decimal(0)),
    ]


async def test_records_wait_while_the_database_is_down_and_are_written_once_it_is_back(
    usage_pool: ConnectionPool, package_database_dsn: str, tenant: Tenant
) -> None:
    proxy = TcpProxy.in_front_of(package_database_dsn)
    await proxy.start()
    pool = await create_pool(proxy.dsn_through(package_database_dsn), min_size=1, max_size=2)
    try:
        settings = LedgerSettings(
            batch_records=20, flush_interval_seconds=0.05, retry_max_seconds=0.2
        )
        ledger = BatchingLedger(_writer(pool), settings=settings)
        ledger.start()
        await proxy.cut()
        for _ in range(100):
            ledger.record(chat_record(tenant))
        await asyncio.sleep(1.0)  # several failed rounds
        assert ledger.queued == 100
        assert await _count(usage_pool, tenant) == 0
        await proxy.start()  # the database is back, on the same address
        await _eventually(lambda: _gt(_count(usage_pool, tenant), 99))
        await ledger.close(5.0)
        assert await _count(usage_pool, tenant) == 100
        assert await _hourly_calls(usage_pool, tenant) == 100
    finally:
        await proxy.cut()
        pool.terminate()


async def test_a_full_buffer_counts_and_logs_the_loss(
    usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    pool = await create_pool(
        "postgresql://postgres@127.0.0.1:1/none", min_size=0, max_size=1, connect_timeout=0.2
    )
    settings = LedgerSettings(
        buffer_records=30, batch_records=10, flush_interval_seconds=0.05, retry_max_seconds=0.1
    )
    ledger = BatchingLedger(_writer(pool), settings=settings)
    before = _dropped("buffer_full")
    with capture_logs() as logs:
        ledger.start()
        for _ in range(100):
            ledger.record(chat_record(tenant))
        await asyncio.sleep(0.5)
        assert ledger.queued == 30
        assert _dropped("buffer_full") - before == 70
        await ledger.close(0.3)
    warnings = [entry for entry in logs if entry["event"].startswith("usage records dropped")]
    # One warning carrying the number, not one line per record.
    assert [entry["dropped"] for entry in warnings] == [70]
    lost = [entry for entry in logs if entry["event"].startswith("usage records not written")]
    assert [entry["lost"] for entry in lost] == [30]
    assert _dropped("shutdown") >= 30
    await pool.close()


async def test_close_writes_everything_left(usage_pool: ConnectionPool, tenant: Tenant) -> None:
    # A long interval: nothing would be written before close without the drain.
    settings = LedgerSettings(batch_records=500, flush_interval_seconds=60.0)
    ledger = BatchingLedger(_writer(usage_pool), settings=settings)
    ledger.start()
    for _ in range(1234):
        ledger.record(chat_record(tenant))
    await ledger.close(10.0)
    assert await _count(usage_pool, tenant) == 1234
    assert ledger.queued == 0
    # Closed: a late record is counted, never silently kept.
    before = _dropped("shutdown")
    ledger.record(chat_record(tenant))
    assert _dropped("shutdown") == before + 1


async def test_record_never_raises_and_costs_little(tenant: Tenant) -> None:
    async def never(rows: Sequence[UsageRow]) -> int:
        await asyncio.sleep(3600)
        return 0

    ledger = BatchingLedger(never, settings=LedgerSettings(buffer_records=1000))
    record = chat_record(tenant)
    started = time.perf_counter()
    for _ in range(10_000):
        ledger.record(record)
    per_call = (time.perf_counter() - started) / 10_000
    assert per_call < 50e-6  # generous: the bench measures the real figure
    assert ledger.queued == 1000
    await ledger.close(0.1)
