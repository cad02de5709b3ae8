"""The price book: shipped defaults seeded once however many replicas start together, the table
reloaded off the request path, and a change that never reprices the past."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from integration_api.ops.prices import PriceDraft, PriceOperations
from integration_api.principal import Principal, Tenant
from integration_api.providers.registry import DEFAULT_PRICES
from integration_api.store.usage_prices import NewPrice, PriceAmounts, PriceRepository
from integration_api.usage.price_book import PriceBook
from integration_api.usage.pricing import ShippedPrice
from integration_api.usage.record import UsageRecord
from tests.support.service import running_service

OPERATOR = Principal(Tenant("ops", "ops"), subject="olga", operator=True)


def test_every_shipped_default_names_its_date_and_source() -> None:
    assert DEFAULT_PRICES
    keys = [(item.provider, item.model) for item in DEFAULT_PRICES]
    assert len(keys) == len(set(keys))
    for item in DEFAULT_PRICES:
        assert item.taken.isoformat() in item.note and "https://" in item.note
        assert item.effective_from <= datetime.now(UTC)


async def test_defaults_are_seeded_once_with_two_runtimes_starting_at_once(
    empty_database_dsn: str,
) -> None:
    async with AsyncExitStack() as stack:
        services = await asyncio.gather(
            *(stack.enter_async_context(running_service(empty_database_dsn)) for _ in range(2))
        )
        for service in services:
            await asyncio.wait_for(service.app.runtime.prices.wait_loaded(), 30)
        pool = services[0].app.runtime.database.pool
        rows = await pool.fetch(
            "SELECT provider, model, count(*) AS versions, min(source) AS source,"
            " min(set_by) AS set_by FROM usage_prices GROUP BY provider, model"
        )
        assert len(rows) == len(DEFAULT_PRICES)
        assert {(row["versions"], row["source"], row["set_by"]) for row in rows} == {
            (1, "default", "service:defaults")
        }
        # A third start finds every default in place and writes nothing.
        book = PriceBook(services[0].app.runtime.database, DEFAULT_PRICES)
        await book.seed_and_load()
        assert await pool.fetchval("SELECT count(*) FROM usage_prices") == len(DEFAULT_PRICES)
        assert len(book.table) == len(DEFAULT_PRICES)


async def test_a_default_is_not_seeded_where_an_operator_priced_the_model(
    empty_database_dsn: str,
) -> None:
    async with running_service(empty_database_dsn) as service:
        database = service.app.runtime.database
        await service.app.runtime.prices.wait_loaded()
        shipped = ShippedPrice(
            provider="openai",
            model="shipped-later",
            amounts=PriceAmounts(usd_per_million_input_tokens=Decimal(1)),
            taken=datetime(2026, 1, 1, tzinfo=UTC).date(),
            note="https://example.com, read 2026-01-01",
        )
        operations = PriceOperations(database)
        await operations.set(
            OPERATOR,
            PriceDraft("openai", "shipped-later", {"usd_per_million_input_tokens": "7"}, None),
        )
        await PriceBook(database, [shipped]).seed_and_load()
        rows = await PriceRepository(database.pool).listing(
            "openai", "shipped-later", include_history=True, now=datetime.now(UTC)
        )
        assert [(row.source, row.amounts.usd_per_million_input_tokens) for row in rows] == [
            ("operator", Decimal(7))
        ]


async def test_other_processes_pick_a_change_up_on_their_next_reload(
    empty_database_dsn: str,
) -> None:
    async with running_service(empty_database_dsn) as service:
        database = service.app.runtime.database
        other = PriceBook(database, refresh_seconds=0.05)
        other.start()
        try:
            await asyncio.wait_for(other.wait_loaded(), 10)
            stored = await PriceOperations(database).set(
                OPERATOR, PriceDraft("openai", "picked-up", {}, None)
            )
            at = stored.effective_from.timestamp()
            for _ in range(100):
                if other.table.price_for("openai", "picked-up", at) is not None:
                    break
                await asyncio.sleep(0.02)
            assert other.table.price_for("openai", "picked-up", at) is not None
        finally:
            await other.stop()


async def test_a_price_change_never_reprices_the_past(empty_database_dsn: str) -> None:
    async with running_service(empty_database_dsn) as service:
        runtime = service.app.runtime
        await runtime.prices.wait_loaded()
        repository = PriceRepository(runtime.database.pool)
        long_ago = datetime.now(UTC) - timedelta(days=30)
        await repository.seed(
            [
                NewPrice(
                    provider="openai",
                    model="repriced",
                    amounts=PriceAmounts(usd_per_million_input_tokens=Decimal("1")),
                    effective_from=long_ago,
                    source="default",
                    set_by="service:defaults",
                )
            ]
        )
        await runtime.prices.reload()
        started = datetime.now(UTC).timestamp()
        call = UsageRecord(
            tenant=Tenant("org", "p1"),
            operation="chat",
            provider="openai",
            model="repriced",
            outcome="ok",
            started_at=started,
            duration_seconds=0.5,
            input_tokens=1_000,
        )
        before = runtime.prices.cost(call)
        # The new price is set now; it can only start 1 s ahead, after every call so far.
        new = await runtime.operations.prices.set(
            OPERATOR,
            PriceDraft("openai", "repriced", {"usd_per_million_input_tokens": "4"}, None),
        )
        assert new.effective_from.timestamp() >= started + 1
        after = runtime.prices.cost(call)
        assert (before.micros, before.price_version) == (after.micros, after.price_version)
        assert after.micros == Decimal(1000)
        later = runtime.prices.cost(replace(call, started_at=new.effective_from.timestamp()))
        assert (later.micros, later.price_version) == (Decimal(4000), 2)


async def test_concurrent_changes_of_one_model_get_consecutive_versions(
    empty_database_dsn: str,
) -> None:
    async with running_service(empty_database_dsn) as service:
        operations = service.app.runtime.operations.prices
        draft = PriceDraft("openai", "raced", {"usd_per_million_input_tokens": "1"}, None)
        stored = await asyncio.gather(*(operations.set(OPERATOR, draft) for _ in range(5)))
        assert sorted(item.version for item in stored) == [1, 2, 3, 4, 5]
