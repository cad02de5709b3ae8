"""The price table (`usage_prices`): versions are only ever added, each from a time on.

Every write takes one transaction-scoped advisory lock, so two writers never read the same
latest version (a version is the previous one plus one for its provider and model) and shipped
defaults seeded by many replicas starting at once land exactly once. Prices change rarely: one
lock for the whole table costs nothing and cannot deadlock.

Times are UTC. A new price takes effect no earlier than `MIN_LEAD` (1 s) after it is set: each
replica checks, before pricing a batch, that its table was loaded after the newest record in it
started (`latest_id`), and the lead covers the commit becoming visible and clock skew up to 1 s
between a replica and the database. The lock also makes ids grow in commit order, so the
largest id names the table's content.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import asyncpg

from integration_api.store.audit import AuditLog
from integration_api.store.database import advisory_key
from integration_api.store.models import AuditEvent

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

PRICES_LOCK_KEY = advisory_key("integration-api/usage-prices")
MIN_LEAD = timedelta(seconds=1)
DEFAULT_SOURCE = "default"
OPERATOR_SOURCE = "operator"


@dataclass(frozen=True, slots=True)
class PriceAmounts:
    """US dollars per unit; None: the unit is not billed (cached and cache-write input fall
    back to the input price, reasoning to the output price)."""

    usd_per_million_input_tokens: Decimal | None = None
    usd_per_million_cached_input_tokens: Decimal | None = None
    usd_per_million_cache_write_input_tokens: Decimal | None = None
    usd_per_million_output_tokens: Decimal | None = None
    usd_per_million_reasoning_tokens: Decimal | None = None
    usd_per_audio_minute_in: Decimal | None = None
    usd_per_audio_minute_out: Decimal | None = None
    usd_per_million_characters: Decimal | None = None
    usd_per_thousand_search_units: Decimal | None = None


AMOUNT_FIELDS: tuple[str, ...] = tuple(item.name for item in fields(PriceAmounts))


@dataclass(frozen=True, slots=True)
class StoredPrice:
    """One row of `usage_prices`, exactly as stored."""

    id: int
    provider: str
    model: str
    version: int
    effective_from: datetime
    amounts: PriceAmounts
    source: str
    set_by: str
    set_at: datetime
    note: str


# Builds the audit event of a price change from the version it follows and the new one.
AuditEventFor = Callable[[StoredPrice | None, StoredPrice], AuditEvent]


@dataclass(frozen=True, slots=True)
class NewPrice:
    provider: str
    model: str
    amounts: PriceAmounts
    effective_from: datetime
    source: str
    set_by: str
    note: str = ""


def default_effective_from(now: datetime) -> datetime:
    """The first whole second at least `MIN_LEAD` after `now` (UTC)."""
    earliest = now.astimezone(UTC) + MIN_LEAD
    return datetime.fromtimestamp(math.ceil(earliest.timestamp()), UTC)


@dataclass(frozen=True, slots=True)
class TableState:
    """What the table held at a time: its largest id (0 when empty) and the database's `now()`
    read no later than the rows were (so every commit before `read_at` is in them)."""

    latest_id: int
    read_at: datetime


def _row(record: asyncpg.Record) -> StoredPrice:
    return StoredPrice(
        id=record["id"],
        provider=record["provider"],
        model=record["model"],
        version=record["version"],
        effective_from=record["effective_from"].astimezone(UTC),
        amounts=PriceAmounts(**{name: record[name] for name in AMOUNT_FIELDS}),
        source=record["source"],
        set_by=record["set_by"],
        set_at=record["set_at"].astimezone(UTC),
        note=record["note"],
    )


_COLUMNS = ", ".join(AMOUNT_FIELDS)
_PLACEHOLDERS = ", ".join(f"${index}" for index in range(8, 8 + len(AMOUNT_FIELDS)))

_INSERT = f"""
INSERT INTO usage_prices (provider, model, version, effective_from, source, set_by, note,
    {_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, {_PLACEHOLDERS})
RETURNING *"""  # noqa: S608 - composed from constants only

# Filters: NULL matches every provider / model.
_FILTER = "($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR model = $2)"

_IN_FORCE_AND_SCHEDULED = f"""
SELECT * FROM (
    SELECT DISTINCT ON (provider, model) * FROM usage_prices
    WHERE {_FILTER} AND effective_from <= $3
    ORDER BY provider, model, effective_from DESC, version DESC
) AS in_force
UNION ALL
SELECT * FROM usage_prices WHERE {_FILTER} AND effective_from > $3
ORDER BY provider, model, effective_from, version"""  # noqa: S608 - composed from constants only

_STATE = "SELECT coalesce(max(id), 0) AS latest_id, now() AS read_at FROM usage_prices"

_HISTORY = f"""
SELECT * FROM usage_prices WHERE {_FILTER}
ORDER BY provider, model, effective_from, version"""  # noqa: S608 - composed from constants only


def _insert_arguments(price: NewPrice, version: int) -> list[object]:
    return [
        price.provider,
        price.model,
        version,
        price.effective_from,
        price.source,
        price.set_by,
        price.note,
        *(getattr(price.amounts, name) for name in AMOUNT_FIELDS),
    ]


class PriceRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def every_version(self) -> tuple[list[StoredPrice], TableState]:
        """The whole table (a few rows per model): what the in-memory price book holds, and
        the state it was read in."""
        async with self._pool.acquire() as connection, connection.transaction():
            # now() is the transaction's start: the rows' snapshot is taken after it.
            read_at = await connection.fetchval("SELECT now()")
            records = await connection.fetch(
                "SELECT * FROM usage_prices ORDER BY provider, model, effective_from, version"
            )
        rows = [_row(record) for record in records]
        latest = max((row.id for row in rows), default=0)
        return rows, TableState(latest_id=latest, read_at=read_at.astimezone(UTC))

    async def state(self) -> TableState:
        """The table's largest id and the time it was read: one index lookup."""
        async with self._pool.acquire() as connection:
            record = await connection.fetchrow(_STATE)
        assert record is not None
        return TableState(latest_id=record["latest_id"], read_at=record["read_at"].astimezone(UTC))

    async def listing(
        self, provider: str, model: str, *, include_history: bool, now: datetime
    ) -> list[StoredPrice]:
        """Every version (oldest first per model), or the one in force at `now` and any
        scheduled after it."""
        async with self._pool.acquire() as connection:
            if include_history:
                records = await connection.fetch(_HISTORY, provider or None, model or None)
            else:
                records = await connection.fetch(
                    _IN_FORCE_AND_SCHEDULED, provider or None, model or None, now
                )
        return [_row(record) for record in records]

    async def add(
        self, price: NewPrice, audit: AuditEventFor
    ) -> tuple[StoredPrice | None, StoredPrice]:
        """Adds the next version of the price's provider and model; returns the version it
        follows (None for the first) and the one written. The audit event, built from both,
        is appended in the same transaction."""
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", PRICES_LOCK_KEY)
            previous = await _latest(connection, price.provider, price.model)
            version = previous.version + 1 if previous is not None else 1
            inserted = await connection.fetchrow(_INSERT, *_insert_arguments(price, version))
            if inserted is None:
                raise RuntimeError("inserting a price returned no row")
            stored = _row(inserted)
            await AuditLog(self._pool).append(connection, audit(previous, stored))
        return previous, stored

    async def seed(self, defaults: Sequence[NewPrice]) -> int:
        """Writes each default whose provider and model have no row yet, as version 1; returns
        how many were written. Safe with many replicas at once: the lock makes each look at
        the table only after the previous seeder committed."""
        written = 0
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", PRICES_LOCK_KEY)
            present = {
                (record["provider"], record["model"])
                for record in await connection.fetch(
                    "SELECT DISTINCT provider, model FROM usage_prices"
                )
            }
            for price in defaults:
                key = (price.provider, price.model)
                if key in present:
                    continue
                await connection.execute(_INSERT, *_insert_arguments(price, 1))
                present.add(key)
                written += 1
        return written


async def _latest(connection: DatabaseConnection, provider: str, model: str) -> StoredPrice | None:
    record = await connection.fetchrow(
        "SELECT * FROM usage_prices WHERE provider = $1 AND model = $2"
        " ORDER BY version DESC LIMIT 1",
        provider,
        model,
    )
    return _row(record) if record is not None else None
