"""Usage records written straight into PostgreSQL, raw rows and their hourly sums together.

What the ledger's writer does for a batch, in plain SQL: the raw rows are inserted (a row already
there is skipped) and exactly the inserted ones are added to `usage_hourly`, in one statement.
Tests of the queries and the query benchmark use it to lay down records of any shape and time.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from integration_api.store.database import DatabaseConnection


@dataclass(frozen=True)
class UsageRow:
    """One row of usage_records, its fields in the table's column order."""

    occurred_at: datetime
    organization_id: str
    project_id: str
    provider: str
    operation: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    credential_id: str = ""
    route_id: str = ""
    route_target: int | None = None
    model: str = ""
    voice: str = ""
    outcome: str = "ok"
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    audio_seconds_in: float | None = None
    audio_seconds_out: float | None = None
    characters: int | None = None
    search_units: int | None = None
    duration_seconds: float = 0.25
    provider_request_id: str = ""
    cost_micros: Decimal = Decimal(0)
    price_id: int | None = None
    unpriced: bool = False


COLUMNS = [item.name for item in fields(UsageRow)]
_KEYS = "organization_id, project_id, credential_id, route_id, provider, model, operation"
_SUMMED = (
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
    "cost_micros",
)
_COUNTS = ("calls", "failed_calls", "unpriced_calls")

# The staged rows go in; those that went in are added to their hours, keys in a stable order.
_WRITE = f"""
WITH inserted AS (
    INSERT INTO usage_records ({", ".join(COLUMNS)})
    SELECT {", ".join(COLUMNS)} FROM usage_staging
    ON CONFLICT DO NOTHING
    RETURNING *
)
INSERT INTO usage_hourly (hour, {_KEYS}, {", ".join(_COUNTS)}, {", ".join(_SUMMED)})
SELECT date_trunc('hour', occurred_at, 'UTC'), {_KEYS},
       count(*), count(*) FILTER (WHERE outcome <> 'ok'), count(*) FILTER (WHERE unpriced),
       {", ".join(f"coalesce(sum({name}), 0)" for name in _SUMMED)}
FROM inserted
GROUP BY 1, {_KEYS}
ORDER BY 1, {_KEYS}
ON CONFLICT (hour, {_KEYS}) DO UPDATE SET
    {", ".join(f"{name} = usage_hourly.{name} + EXCLUDED.{name}" for name in (*_COUNTS, *_SUMMED))}
"""


async def write_usage(connection: DatabaseConnection, rows: Sequence[UsageRow]) -> None:
    """Writes `rows` and their hourly sums in one transaction (a row already written is
    skipped and adds nothing)."""
    async with connection.transaction():
        await connection.execute(
            "CREATE TEMPORARY TABLE usage_staging"
            " (LIKE usage_records INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        await connection.copy_records_to_table(
            "usage_staging", records=[astuple(row) for row in rows], columns=COLUMNS
        )
        await connection.execute(_WRITE)
