"""A priced usage record as the row the store writes."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from integration_api.store.usage_records import UsageRow
from integration_api.usage.ports import Cost
from integration_api.usage.record import UsageRecord


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` random (version 4) ids from one read of the system's randomness, which costs a
    quarter of what `uuid4()` does once per id."""
    randomness = os.urandom(16 * count)
    return [uuid.UUID(bytes=randomness[at : at + 16], version=4) for at in range(0, 16 * count, 16)]


def usage_row(record: UsageRecord, cost: Cost, row_id: uuid.UUID) -> UsageRow:
    route = record.route
    # Positional, in the columns' order: made for every record, so kept cheap.
    return UsageRow(
        datetime.fromtimestamp(record.started_at, UTC),
        row_id,
        record.tenant.organization_id,
        record.tenant.project_id,
        record.credential_id,
        route.route_id if route is not None else "",
        route.target if route is not None else None,
        record.provider,
        record.model,
        record.voice,
        record.operation,
        record.outcome,
        *record.quantities,
        record.duration_seconds,
        record.provider_request_id,
        cost.micros,
        cost.price_id,
        cost.unpriced,
    )
