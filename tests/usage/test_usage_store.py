"""The batch write: raw rows and hourly sums in one statement, idempotent per row."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from integration_api.principal import Tenant
from integration_api.store.database import ConnectionPool
from integration_api.store.usage_columns import RECORD_NAMES
from integration_api.store.usage_records import UsageRow, write_usage_batch
from integration_api.usage.ports import Cost
from integration_api.usage.record import RouteAttribution
from integration_api.usage.rows import usage_row
from tests.usage.conftest import chat_record

HOUR = datetime(2026, 12, 1, 10, tzinfo=UTC).timestamp()


async def _hourly(pool: ConnectionPool, tenant: Tenant) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT * FROM usage_hourly WHERE organization_id = $1 AND project_id = $2"
        " ORDER BY hour, model, route_id",
        tenant.organization_id,
        tenant.project_id,
    )
    return [dict(row) for row in rows]


async def test_a_batch_is_written_and_summed_per_hour_and_key(
    usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    cost = Cost(micros=Decimal("1.5"), price_id=None)
    records = [
        chat_record(tenant, started_at=HOUR + 10, input_tokens=10, output_tokens=1),
        chat_record(tenant, started_at=HOUR + 20, input_tokens=20, output_tokens=None),
        chat_record(tenant, started_at=HOUR + 30, input_tokens=None, outcome="unavailable"),
        chat_record(tenant, started_at=HOUR + 3600, input_tokens=7),  # the next hour
        chat_record(tenant, started_at=HOUR + 40, model="model-b"),
    ]
    rows = [usage_row(record, cost, uuid.uuid4()) for record in records]
    assert await write_usage_batch(usage_pool, rows) == 5

    hourly = await _hourly(usage_pool, tenant)
    assert [(row["hour"], row["model"], row["calls"]) for row in hourly] == [
        (datetime.fromtimestamp(HOUR, UTC), "model-a", 3),
        (datetime.fromtimestamp(HOUR, UTC), "model-b", 1),
        (datetime.fromtimestamp(HOUR + 3600, UTC), "model-a", 1),
    ]
    first = hourly[0]
    assert first["input_tokens"] == 30
    assert first["output_tokens"] == 1 + 5
    assert first["failed_calls"] == 1
    assert first["cost_micros"] == Decimal("4.5")
    assert first["duration_seconds"] == 1.5
    stored = await usage_pool.fetchval(
        "SELECT count(*) FROM usage_records WHERE organization_id = $1", tenant.organization_id
    )
    assert stored == 5
    # Not reported stays NULL in the raw row, never 0.
    unreported = await usage_pool.fetchval(
        "SELECT count(*) FROM usage_records WHERE organization_id = $1 AND input_tokens IS NULL",
        tenant.organization_id,
    )
    assert unreported == 1


async def test_a_batch_written_twice_adds_nothing_twice(
    usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    rows = [
        usage_row(chat_record(tenant, started_at=HOUR + i), Cost(Decimal(2)), uuid.uuid4())
        for i in range(50)
    ]
    assert await write_usage_batch(usage_pool, rows) == 50
    # The acknowledgement was lost: the same batch again, plus one new row.
    extra = usage_row(chat_record(tenant, started_at=HOUR + 99), Cost(Decimal(2)), uuid.uuid4())
    assert await write_usage_batch(usage_pool, [*rows, extra]) == 1
    (hour,) = await _hourly(usage_pool, tenant)
    assert hour["calls"] == 51
    assert hour["input_tokens"] == 510
    assert hour["cost_micros"] == Decimal(102)


async def test_routes_and_credentials_are_keys_of_the_sums(
    usage_pool: ConnectionPool, tenant: Tenant
) -> None:
    routed = chat_record(tenant, started_at=HOUR)
    routed = dataclasses.replace(routed, route=RouteAttribution("route-1", 1))
    rows = [
        usage_row(routed, Cost(Decimal(0)), uuid.uuid4()),
        usage_row(chat_record(tenant, started_at=HOUR), Cost(Decimal(0)), uuid.uuid4()),
        usage_row(
            chat_record(tenant, started_at=HOUR, credential_id="cred-2"),
            Cost(Decimal(0), unpriced=True),
            uuid.uuid4(),
        ),
    ]
    assert await write_usage_batch(usage_pool, rows) == 3
    hourly = await _hourly(usage_pool, tenant)
    assert sorted((row["credential_id"], row["route_id"]) for row in hourly) == [
        ("cred-1", ""),
        ("cred-1", "route-1"),
        ("cred-2", ""),
    ]
    assert sum(int(row["unpriced_calls"]) for row in hourly) == 1  # type: ignore[call-overload]
    target = await usage_pool.fetchval(
        "SELECT route_target FROM usage_records WHERE organization_id = $1 AND route_id <> ''",
        tenant.organization_id,
    )
    assert target == 1


def test_the_row_lists_the_columns_in_the_statement_order() -> None:
    assert UsageRow._fields == RECORD_NAMES
