"""Usage records written in batches: the raw rows and their hourly sums in one statement.

One statement inserts a whole batch (arrays unnested server-side: one round trip, one plan,
measured several times faster than `executemany` for 500 rows) and adds to `usage_hourly`
exactly the rows it inserted. A batch written again after its acknowledgement was lost finds its
rows already there (ON CONFLICT DO NOTHING on the records' primary key), inserts none, and so
adds nothing to the sums twice. The hourly upsert takes its keys in one stable order, so two
replicas writing batches that touch the same hours lock them in the same order and never
deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection


class UsageRow(NamedTuple):
    """One usage_records row as written (the columns of migration 0007, minus recorded_at).

    A tuple: made for every record off the request path, it must be cheap to build (a frozen
    dataclass of 26 fields costs several times more), and it is the statement's row as is.
    """

    occurred_at: datetime
    id: uuid.UUID
    organization_id: str
    project_id: str
    credential_id: str
    route_id: str
    route_target: int | None
    provider: str
    model: str
    voice: str
    operation: str
    outcome: str
    input_tokens: int | None
    cached_input_tokens: int | None
    cache_write_input_tokens: int | None
    output_tokens: int | None
    reasoning_tokens: int | None
    audio_seconds_in: float | None
    audio_seconds_out: float | None
    characters: int | None
    search_units: int | None
    duration_seconds: float
    provider_request_id: str
    cost_micros: Decimal
    price_id: int | None
    unpriced: bool


# (column, array type) in UsageRow's field order.
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("occurred_at", "timestamptz"),
    ("id", "uuid"),
    ("organization_id", "text"),
    ("project_id", "text"),
    ("credential_id", "text"),
    ("route_id", "text"),
    ("route_target", "smallint"),
    ("provider", "text"),
    ("model", "text"),
    ("voice", "text"),
    ("operation", "text"),
    ("outcome", "text"),
    ("input_tokens", "bigint"),
    ("cached_input_tokens", "bigint"),
    ("cache_write_input_tokens", "bigint"),
    ("output_tokens", "bigint"),
    ("reasoning_tokens", "bigint"),
    ("audio_seconds_in", "float8"),
    ("audio_seconds_out", "float8"),
    ("characters", "bigint"),
    ("search_units", "bigint"),
    ("duration_seconds", "float8"),
    ("provider_request_id", "text"),
    ("cost_micros", "numeric"),
    ("price_id", "bigint"),
    ("unpriced", "boolean"),
)
_NAMES = ", ".join(name for name, _ in _COLUMNS)
_ARRAYS = ", ".join(f"${index}::{kind}[]" for index, (_, kind) in enumerate(_COLUMNS, 1))

# Summed per hour; the key is usage_hourly's primary key.
_KEY = "hour, organization_id, project_id, credential_id, route_id, provider, model, operation"
_SUMMED = (
    "calls",
    "failed_calls",
    "unpriced_calls",
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
_ADDED = ",\n        ".join(f"{name} = usage_hourly.{name} + EXCLUDED.{name}" for name in _SUMMED)

WRITE_BATCH = f"""
WITH inserted AS (
    INSERT INTO usage_records ({_NAMES})
    SELECT * FROM unnest({_ARRAYS})
    ON CONFLICT DO NOTHING
    RETURNING occurred_at, organization_id, project_id, credential_id, route_id, provider,
              model, operation, outcome, unpriced, input_tokens, cached_input_tokens,
              cache_write_input_tokens, output_tokens, reasoning_tokens, audio_seconds_in,
              audio_seconds_out, characters, search_units, duration_seconds, cost_micros
), summed AS (
    -- The hour in UTC whatever the session's time zone.
    SELECT date_trunc('hour', occurred_at, 'UTC') AS hour, organization_id, project_id,
           credential_id, route_id, provider, model, operation,
           count(*) AS calls,
           count(*) FILTER (WHERE outcome <> 'ok') AS failed_calls,
           count(*) FILTER (WHERE unpriced) AS unpriced_calls,
           coalesce(sum(input_tokens), 0) AS input_tokens,
           coalesce(sum(cached_input_tokens), 0) AS cached_input_tokens,
           coalesce(sum(cache_write_input_tokens), 0) AS cache_write_input_tokens,
           coalesce(sum(output_tokens), 0) AS output_tokens,
           coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
           coalesce(sum(audio_seconds_in), 0) AS audio_seconds_in,
           coalesce(sum(audio_seconds_out), 0) AS audio_seconds_out,
           coalesce(sum(characters), 0) AS characters,
           coalesce(sum(search_units), 0) AS search_units,
           coalesce(sum(duration_seconds), 0) AS duration_seconds,
           coalesce(sum(cost_micros), 0) AS cost_micros
    FROM inserted
    GROUP BY {_KEY}
), added AS (
    INSERT INTO usage_hourly ({_KEY}, {", ".join(_SUMMED)})
    SELECT * FROM summed
    -- Every writer locks the rows it adds to in this order: no deadlock between replicas.
    ORDER BY {_KEY}
    ON CONFLICT ({_KEY}) DO UPDATE SET
        {_ADDED}
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM added) AS hours
"""  # noqa: S608 - composed from constants only


def _columns(rows: Sequence[UsageRow]) -> list[list[object]]:
    """The rows as one array per column (the statement's parameters)."""
    return [list(column) for column in zip(*rows, strict=True)]


async def write_usage_batch(
    database: ConnectionPool | DatabaseConnection, rows: Sequence[UsageRow]
) -> int:
    """Writes `rows` and their hourly sums atomically; returns how many rows were new."""
    if not rows:
        return 0
    inserted = await database.fetchval(WRITE_BATCH, *_columns(rows))
    return int(inserted or 0)


# The same batch one statement per row inside one transaction: kept to measure the array form
# against (scripts/bench --ledger), not used by the service.
_WRITE_ONE = WRITE_BATCH.replace(
    f"SELECT * FROM unnest({_ARRAYS})",  # noqa: S608 - composed from constants only
    "VALUES (" + ", ".join(f"${i}::{kind}" for i, (_, kind) in enumerate(_COLUMNS, 1)) + ")",
)


async def write_usage_rows_one_by_one(
    connection: DatabaseConnection, rows: Sequence[UsageRow]
) -> None:
    async with connection.transaction():
        await connection.executemany(_WRITE_ONE, rows)
