"""What the usage ledger costs a call, and how fast it writes, against the local PostgreSQL.

On a fresh database (BENCH_POSTGRES_DSN, default the local server):

1. One batch of `--batch` records written as one statement over arrays (what the service does)
   and as `executemany` of one statement per row inside one transaction: milliseconds per batch.
2. Flush throughput: `--records` records queued at once, then the time until the flusher has
   written them all: records per second, and the process's CPU per record (pricing, ids, rows,
   encoding: work the event loop does off the request path).
3. The added time per call: calls arrive at `--rate` per second while the flusher writes to
   PostgreSQL; each makes its `UsageRecord` and hands it to `record()`, timed one by one:
   p50, p99 and the largest, in milliseconds (the target is 0.1 ms at p99); and how late a
   10 ms timer fires meanwhile (how long the flusher holds the event loop the calls share).
4. The price probe a flush runs before pricing its batch (when a record in it started after
   the table was last loaded): milliseconds per probe, beside a full reload of the table with
   the shipped defaults in it.

    ./scripts/bench --ledger [--records 100000] [--rate 2000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal

from integration_api.principal import Tenant
from integration_api.providers.registry import DEFAULT_PRICES
from integration_api.store.database import ConnectionPool, create_pool
from integration_api.store.migrate import apply_migrations
from integration_api.store.usage_prices import PriceRepository
from integration_api.store.usage_records import (
    UsageRow,
    write_usage_batch,
    write_usage_rows_one_by_one,
)
from integration_api.usage.ledger import BatchingLedger, LedgerSettings
from integration_api.usage.ports import Cost
from integration_api.usage.price_book import seeded
from integration_api.usage.record import CHAT, OK, UsageRecord
from integration_api.usage.rows import usage_row
from scripts.tools.bench_processes import fresh_database

TENANTS = [Tenant(f"org-{index}", f"project-{index}") for index in range(20)]
MODELS = ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4", "text-embedding-3-small"]
TARGET_P99_MS = 0.1


def _record(index: int) -> UsageRecord:
    return UsageRecord(
        tenant=TENANTS[index % len(TENANTS)],
        operation=CHAT,
        provider="bench",
        outcome=OK,
        started_at=time.time(),
        duration_seconds=0.8,
        credential_id=f"credential-{index % 7}",
        model=MODELS[index % len(MODELS)],
        input_tokens=812,
        cached_input_tokens=128,
        output_tokens=240,
        provider_request_id="req_0123456789abcdef",
    )


def _rows(count: int) -> list[UsageRow]:
    cost = Cost(micros=Decimal("1234.5"), price_id=1)
    return [usage_row(_record(index), cost, uuid.uuid4()) for index in range(count)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


async def _batch_forms(pool: ConnectionPool, batch: int, repeats: int) -> None:
    arrays: list[float] = []
    one_by_one: list[float] = []
    for _ in range(repeats):
        rows = _rows(batch)
        started = time.perf_counter()
        await write_usage_batch(pool, rows)
        arrays.append(time.perf_counter() - started)
        rows = _rows(batch)
        async with pool.acquire() as connection:
            started = time.perf_counter()
            await write_usage_rows_one_by_one(connection, rows)
            one_by_one.append(time.perf_counter() - started)
    print(f"one batch of {batch} records (median of {repeats}, ms):")
    print(f"  one statement over arrays        {_ms(statistics.median(arrays)):>9}")
    print(f"  executemany, one statement a row {_ms(statistics.median(one_by_one)):>9}")


def _ledger(pool: ConnectionPool, batch: int) -> BatchingLedger:
    async def write(rows: Sequence[UsageRow]) -> int:
        return await write_usage_batch(pool, rows)

    settings = LedgerSettings(buffer_records=1_000_000, batch_records=batch)
    ledger = BatchingLedger(write, settings=settings)
    ledger.start()
    return ledger


async def _throughput(pool: ConnectionPool, batch: int, records: int) -> None:
    ledger = _ledger(pool, batch)
    cpu = time.process_time()
    started = time.perf_counter()
    for index in range(records):
        ledger.record(_record(index))
    while ledger.queued:  # noqa: ASYNC110 - polls the flusher's progress
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    used = time.process_time() - cpu
    await ledger.close(10.0)
    print(
        f"flush throughput: {records} records in {elapsed:.2f} s = {records / elapsed:,.0f} "
        f"records/s; process CPU {used / records * 1e6:.1f} µs per record"
    )


async def _added_time(pool: ConnectionPool, batch: int, rate: int, seconds: float) -> None:
    ledger = _ledger(pool, batch)
    timings: list[float] = []
    # How late a 10 ms timer fires: how long the flusher holds the event loop that every call
    # in flight shares (pricing, rows, encoding the statement).
    lateness: list[float] = []
    tick = 0.01
    per_tick = max(1, round(rate * tick))
    index = 0
    ends = time.perf_counter() + seconds
    while time.perf_counter() < ends:
        for _ in range(per_tick):
            started = time.perf_counter()
            ledger.record(_record(index))
            timings.append(time.perf_counter() - started)
            index += 1
        slept = time.perf_counter()
        await asyncio.sleep(tick)  # the flusher writes between arrivals, as under real load
        lateness.append(time.perf_counter() - slept - tick)
    await ledger.close(10.0)
    written = await pool.fetchval("SELECT count(*) FROM usage_records")
    timings.sort()
    p50 = timings[len(timings) // 2]
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    verdict = "met" if p99 * 1000 <= TARGET_P99_MS else "MISSED"
    print(
        f"added time per call ({len(timings)} calls at {rate}/s while the flusher writes; "
        f"UsageRecord made and record() called, ms): p50 {_ms(p50)}  p99 {_ms(p99)}  "
        f"max {_ms(timings[-1])}  (target p99 <= {TARGET_P99_MS} ms: {verdict}); "
        f"{written} rows in the database"
    )
    lateness.sort()
    print(
        f"event loop held by the flusher (lateness of a 10 ms timer, ms): "
        f"p50 {_ms(lateness[len(lateness) // 2])}  p99 {_ms(lateness[int(len(lateness) * 0.99)])}"
        f"  max {_ms(lateness[-1])}"
    )


async def _idle_lateness(seconds: float) -> None:
    """The same timer without the ledger: the machine's own noise, to read the figure above by."""
    lateness: list[float] = []
    ends = time.perf_counter() + seconds
    while time.perf_counter() < ends:
        slept = time.perf_counter()
        await asyncio.sleep(0.01)
        lateness.append(time.perf_counter() - slept - 0.01)
    lateness.sort()
    print(
        f"the same timer without the ledger (ms): p50 {_ms(lateness[len(lateness) // 2])}  "
        f"p99 {_ms(lateness[int(len(lateness) * 0.99)])}  max {_ms(lateness[-1])}"
    )


async def _price_probe(pool: ConnectionPool, repeats: int) -> None:
    repository = PriceRepository(pool)
    await repository.seed(seeded(DEFAULT_PRICES))
    probes: list[float] = []
    reloads: list[float] = []
    versions = 0
    for _ in range(repeats):
        started = time.perf_counter()
        await repository.state()
        probes.append(time.perf_counter() - started)
        started = time.perf_counter()
        rows, _state = await repository.every_version()
        reloads.append(time.perf_counter() - started)
        versions = len(rows)
    print(
        f"price probe before a batch (at most one per flush; median of {repeats}, ms): "
        f"probe {_ms(statistics.median(probes))}  p99 {_ms(sorted(probes)[int(repeats * 0.99)])}"
        f"; a full reload of {versions} versions {_ms(statistics.median(reloads))}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", action="store_true", help="(selects this benchmark)")
    parser.add_argument("--batch", type=int, default=200, help="records a batch (default: 200)")
    parser.add_argument(
        "--records",
        type=int,
        default=100_000,
        help="records of the throughput run (default: 100000)",
    )
    parser.add_argument("--rate", type=int, default=2000, help="calls per second (default: 2000)")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="length of the added-time run (default: 10)"
    )
    options = parser.parse_args()
    async with fresh_database() as dsn:
        pool = await create_pool(dsn, min_size=1, max_size=4)
        try:
            await apply_migrations(pool)
            await _batch_forms(pool, options.batch, repeats=20)
            await _throughput(pool, options.batch, options.records)
            await _added_time(pool, options.batch, options.rate, options.seconds)
            await _idle_lateness(min(options.seconds, 5.0))
            await _price_probe(pool, repeats=200)
        finally:
            await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
