"""ExportUsage: every record of the range, oldest first, one JSON object each, page by page."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import pytest
from integration_api_proto.integration.v1 import ExportUsageRequest, UsageFilter

from integration_api.ops.usage_query import EXPORT_PAGE
from tests.usage.support import (
    PROJECT,
    Ledger,
    new_organization,
    random_rows,
    row_with,
    timestamp_filter,
)

FIELDS = [
    "id",
    "occurred_at",
    "organization_id",
    "project_id",
    "credential_id",
    "route_id",
    "route_target",
    "provider",
    "model",
    "voice",
    "operation",
    "outcome",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "audio_seconds_in",
    "audio_seconds_out",
    "characters",
    "search_units",
    "duration_seconds",
    "provider_request_id",
    "cost_micros",
]


async def _export(
    ledger: Ledger, selection: UsageFilter, metadata: object
) -> list[dict[str, object]]:
    lines = [
        response.json_line
        async for response in ledger.operations.export_usage(
            ExportUsageRequest(filter=selection),
            metadata=metadata,  # type: ignore[arg-type]
        )
    ]
    assert all("\n" not in line for line in lines)
    return [json.loads(line) for line in lines]


async def test_lines_carry_every_field_nulls_for_unreported_counts(ledger: Ledger) -> None:
    organization = new_organization()
    at = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)
    price_id = await ledger.connection.fetchval(
        "INSERT INTO usage_prices (provider, model, version, effective_from,"
        " usd_per_million_input_tokens, source, set_by)"
        " VALUES ('prov-export', $1, 1, $2, 2.5, 'operator', 'subject:olga') RETURNING id",
        organization,
        at - timedelta(days=1),
    )
    priced = row_with(
        occurred_at=at,
        organization_id=organization,
        project_id=PROJECT,
        provider="prov-export",
        operation="chat",
        credential_id="cred-1",
        route_id="route-1",
        route_target=1,
        model="model-x",
        input_tokens=1200,
        cached_input_tokens=200,
        output_tokens=80,
        duration_seconds=1.5,
        provider_request_id="req-1",
        cost_micros=Decimal("3000.000000"),
        price_id=price_id,
    )
    unpriced = row_with(
        occurred_at=at + timedelta(seconds=1),
        organization_id=organization,
        project_id=PROJECT,
        provider="prov-export",
        operation="synthesize",
        voice="voice-1",
        outcome="cancelled",
        characters=42,
        audio_seconds_out=2.25,
        cost_micros=Decimal("0.125000"),
        unpriced=True,
    )
    await ledger.write([unpriced, priced])
    lines = await _export(
        ledger,
        timestamp_filter(
            at, at + timedelta(minutes=1), organization_id=organization, project_id=PROJECT
        ),
        ledger.operator(),
    )
    assert [line["id"] for line in lines] == [str(priced.id), str(unpriced.id)]
    first, second = lines
    assert list(first) == [*FIELDS, "price_version"]
    assert list(second) == FIELDS  # no price was in force: no version
    assert first["occurred_at"] == "2026-12-01T09:30:15.123456Z"
    assert (first["route_id"], first["route_target"], first["model"]) == ("route-1", 1, "model-x")
    assert (first["input_tokens"], first["cached_input_tokens"], first["output_tokens"]) == (
        1200,
        200,
        80,
    )
    assert first["cache_write_input_tokens"] is None and first["reasoning_tokens"] is None
    assert (first["cost_micros"], first["price_version"]) == ("3000", 1)
    assert second["route_target"] is None and second["input_tokens"] is None
    assert (second["voice"], second["outcome"], second["characters"]) == (
        "voice-1",
        "cancelled",
        42,
    )
    assert second["audio_seconds_out"] == 2.25
    assert second["cost_micros"] == "0.125"


async def test_export_filters_and_keeps_tenants_apart(ledger: Ledger) -> None:
    alpha, beta = new_organization(), new_organization()
    start = datetime.now(UTC) - timedelta(hours=6)
    rng = random.Random(3)
    rows = random_rows(rng, alpha, start, timedelta(hours=5), 200)
    rows += random_rows(rng, beta, start, timedelta(hours=5), 50)
    await ledger.write(rows)
    window = (start + timedelta(minutes=37), start + timedelta(hours=4, minutes=3))
    own = await _export(ledger, timestamp_filter(*window), ledger.tenant(alpha))
    expected = sorted(
        (
            row
            for row in rows
            if row.organization_id == alpha and window[0] <= row.occurred_at < window[1]
        ),
        key=lambda row: (row.occurred_at, row.id),
    )
    assert [line["id"] for line in own] == [str(row.id) for row in expected]
    chats = await _export(
        ledger,
        timestamp_filter(*window, operation="chat", provider="prov-one"),
        ledger.tenant(alpha),
    )
    assert chats and {(line["operation"], line["provider"]) for line in chats} == {
        ("chat", "prov-one")
    }
    assert len(chats) == sum(
        1 for row in expected if (row.operation, row.provider) == ("chat", "prov-one")
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _export(
            ledger,
            timestamp_filter(*window, organization_id=beta, project_id=PROJECT),
            ledger.tenant(alpha),
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _export(ledger, UsageFilter(start_time=window[0]), ledger.operator())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_five_thousand_records_stream_in_pages_none_lost_or_repeated(ledger: Ledger) -> None:
    """Many records share an instant, so pages break inside a run of equal times (ordered by id)."""
    organization = new_organization()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    instants = [start + timedelta(seconds=index // 7) for index in range(5000)]
    rows = [
        row_with(
            occurred_at=instant,
            organization_id=organization,
            project_id=PROJECT,
            provider="prov-one",
            operation="embed",
            input_tokens=index,
        )
        for index, instant in enumerate(instants)
    ]
    await ledger.write(rows)
    assert len(rows) > EXPORT_PAGE and len(rows) % EXPORT_PAGE == 0
    lines = await _export(
        ledger,
        timestamp_filter(
            start, start + timedelta(hours=1), organization_id=organization, project_id=PROJECT
        ),
        ledger.operator(),
    )
    expected = sorted(rows, key=lambda row: (row.occurred_at, row.id))
    assert [line["id"] for line in lines] == [str(row.id) for row in expected]
