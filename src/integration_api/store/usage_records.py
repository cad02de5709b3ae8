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

from integration_api.store.usage_columns import (
    HOURLY_KEY,
    HOURLY_SUMS,
    RECORD_COLUMNS,
    RECORD_NAMES,
    RECORD_SUM,
    SUMMED_COLUMNS,
)

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection


class UsageRow(NamedTuple):
    """One usage_records row as written, its fields in `usage_columns.RECORD_COLUMNS` order.

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


_NAMES = ", ".join(RECORD_NAMES)
_ARRAYS = ", ".join(f"${index}::{kind}[]" for index, (_, kind) in enumerate(RECORD_COLUMNS, 1))
_KEY = ", ".join(HOURLY_KEY)
# What the hourly sums need of each inserted row.
_RETURNED = ", ".join(("occurred_at", *HOURLY_KEY[1:], "outcome", "unpriced", *SUMMED_COLUMNS))
_SUMMED = ",\n           ".join(f"{RECORD_SUM[name]} AS {name}" for name in HOURLY_SUMS)
_ADDED = ",\n        ".join(
    f"{name} = usage_hourly.{name} + EXCLUDED.{name}" for name in HOURLY_SUMS
)

WRITE_BATCH = f"""
WITH inserted AS (
    INSERT INTO usage_records ({_NAMES})
    SELECT * FROM unnest({_ARRAYS})
    ON CONFLICT DO NOTHING
    RETURNING {_RETURNED}
), summed AS (
    -- The hour in UTC whatever the session's time zone.
    SELECT date_trunc('hour', occurred_at, 'UTC') AS hour, {", ".join(HOURLY_KEY[1:])},
           {_SUMMED}
    FROM inserted
    GROUP BY {_KEY}
), added AS (
    INSERT INTO usage_hourly ({_KEY}, {", ".join(HOURLY_SUMS)})
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
    "VALUES (" + ", ".join(f"${i}::{kind}" for i, (_, kind) in enumerate(RECORD_COLUMNS, 1)) + ")",
)


async def write_usage_rows_one_by_one(
    connection: DatabaseConnection, rows: Sequence[UsageRow]
) -> None:
    async with connection.transaction():
        await connection.executemany(_WRITE_ONE, rows)
