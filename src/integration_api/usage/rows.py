"""A priced usage record as the row the store writes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from integration_api.store.usage_records import UsageRow
from integration_api.usage.ports import Cost
from integration_api.usage.record import UsageRecord


def usage_row(record: UsageRecord, cost: Cost, row_id: uuid.UUID) -> UsageRow:
    route = record.route
    return UsageRow(
        occurred_at=datetime.fromtimestamp(record.started_at, UTC),
        id=row_id,
        organization_id=record.tenant.organization_id,
        project_id=record.tenant.project_id,
        credential_id=record.credential_id,
        route_id=route.route_id if route is not None else "",
        route_target=route.target if route is not None else None,
        provider=record.provider,
        model=record.model,
        voice=record.voice,
        operation=record.operation,
        outcome=record.outcome,
        input_tokens=record.input_tokens,
        cached_input_tokens=record.cached_input_tokens,
        cache_write_input_tokens=record.cache_write_input_tokens,
        output_tokens=record.output_tokens,
        reasoning_tokens=record.reasoning_tokens,
        audio_seconds_in=record.audio_seconds_in,
        audio_seconds_out=record.audio_seconds_out,
        characters=record.characters,
        search_units=record.search_units,
        duration_seconds=record.duration_seconds,
        provider_request_id=record.provider_request_id,
        cost_micros=cost.micros,
        price_id=cost.price_id,
        unpriced=cost.unpriced,
    )
