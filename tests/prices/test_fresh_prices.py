"""A price is in force from its effective_from on every replica: before pricing a batch, a
replica whose table was loaded before the batch's newest record started probes the table and
reloads it if it changed, without waiting for its periodic reload."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from prometheus_client import REGISTRY

from integration_api.ops.prices import PriceDraft, PriceOperations
from integration_api.principal import Principal, Tenant
from integration_api.store.usage_prices import NewPrice, PriceAmounts, PriceRepository
from integration_api.store.usage_records import UsageRow, write_usage_batch
from integration_api.usage.ledger import BatchingLedger, LedgerSettings
from integration_api.usage.ports import Cost
from integration_api.usage.price_book import PriceBook
from integration_api.usage.record import UsageRecord
from tests.support.service import running_service

OPERATOR = Principal(Tenant("ops", "ops"), subject="olga", operator=True)
TENANT = Tenant("org-fresh", "p1")
MODEL = "fresh-model"


def _probes(outcome: str) -> float:
    sample = "integration_api_usage_price_probes_total"
    return REGISTRY.get_sample_value(sample, {"outcome": outcome}) or 0.0


def _call(started_at: float) -> UsageRecord:
    return UsageRecord(
        tenant=TENANT,
        operation="chat",
        provider="openai",
        model=MODEL,
        outcome="ok",
        started_at=started_at,
        duration_seconds=0.2,
        input_tokens=1_000,
    )


async def test_a_price_set_on_one_replica_prices_the_other_replicas_next_call(
    empty_database_dsn: str,
) -> None:
    async with running_service(empty_database_dsn) as service:
        database = service.app.runtime.database
        await PriceRepository(database.pool).seed(
            [
                NewPrice(
                    provider="openai",
                    model=MODEL,
                    amounts=PriceAmounts(usd_per_million_input_tokens=Decimal("1")),
                    effective_from=datetime.now(UTC) - timedelta(days=1),
                    source="default",
                    set_by="service:defaults",
                )
            ]
        )
        # Two replicas' books on one database; neither reloads periodically in this test.
        setter = PriceBook(database, refresh_seconds=3600)
        other = PriceBook(database, refresh_seconds=3600)
        await setter.seed_and_load()
        await other.seed_and_load()
        operations = PriceOperations(database, on_change=setter.reload)

        written: list[tuple[UsageRecord, Cost]] = []

        async def write(rows: Sequence[UsageRow]) -> int:
            return await write_usage_batch(database.pool, rows)

        ledger = BatchingLedger(
            write,
            pricer=other,
            settings=LedgerSettings(flush_interval_seconds=0.05),
            listeners=[written.extend],
            pricer_ready=other.wait_loaded,
            pricer_fresh=other.fresh_for,
        )
        ledger.start()
        try:
            set_at = time.time()
            stored = await operations.set(
                OPERATOR,
                PriceDraft(
                    "openai",
                    MODEL,
                    {"usd_per_million_input_tokens": "4"},
                    datetime.fromtimestamp(set_at + 1.2, UTC),
                ),
            )
            assert stored.version == 2
            # The other replica's table does not hold it yet.
            held = other.table.price_for("openai", MODEL, set_at + 1.5)
            assert held is not None and held.version == 1
            await asyncio.sleep(max(0.0, set_at + 1.5 - time.time()))
            changed = _probes("changed")
            ledger.record(_call(time.time()))
            await _until(lambda: len(written) == 1)
            assert written[0][1].price_version == 2
            assert written[0][1].micros == Decimal(4000)
            assert _probes("changed") == changed + 1

            # A call that started before the table was last loaded costs no probe at all.
            quiet = sum(_probes(outcome) for outcome in ("unchanged", "changed", "failed"))
            ledger.record(_call(set_at))
            await _until(lambda: len(written) == 2)
            assert (written[1][1].price_version, written[1][1].micros) == (1, Decimal(1000))
            assert sum(_probes(outcome) for outcome in ("unchanged", "changed", "failed")) == quiet

            # A later call with the table unchanged: one probe, no reload.
            unchanged = _probes("unchanged")
            await asyncio.sleep(0.01)
            ledger.record(_call(time.time()))
            await _until(lambda: len(written) == 3)
            assert written[2][1].price_version == 2
            assert _probes("unchanged") == unchanged + 1
            assert _probes("changed") == changed + 1
        finally:
            await ledger.close()
        rows = await database.pool.fetch(
            "SELECT p.version AS price_version, r.cost_micros FROM usage_records AS r"
            " JOIN usage_prices AS p ON p.id = r.price_id WHERE r.organization_id = $1"
            " ORDER BY p.version, r.cost_micros",
            TENANT.organization_id,
        )
        assert [(row["price_version"], row["cost_micros"]) for row in rows] == [
            (1, Decimal(1000)),
            (2, Decimal(4000)),
            (2, Decimal(4000)),
        ]


async def _until(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.02)
