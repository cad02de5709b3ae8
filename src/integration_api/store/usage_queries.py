"""Reading the usage ledger: sums over a time range, grouped as asked, and records page by page.

Sums read `usage_hourly` for the whole hours of a range and `usage_records` only for the parts
of the hours at either end (`plan_range`: at most half an hour of records at each end), so a
range of a month touches a month of hourly rows plus at most an hour of records, and its sums
are exact for any instant. Both tables are written in one transaction by the ledger, so the two
kinds of rows never disagree; once a month's records are past retention, only whole hours of it
can still be summed exactly.

Statements are composed from constants only: groupings and filters name columns from fixed
tables below, and every value is a bind parameter.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from integration_api.principal import Tenant
from integration_api.store.usage_columns import (
    EXPORTED_AS_IS,
    HOURLY_SUMS,
    INTEGER_SUMS,
    RECORD_SUM,
)

if TYPE_CHECKING:
    import asyncpg

    from integration_api.store.database import ConnectionPool

HOUR = timedelta(hours=1)

# The groupings, in the order of UsageGrouping, each with the columns it groups by.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "tenant": ("organization_id", "project_id"),
    "credential": ("credential_id",),
    "provider": ("provider",),
    "model": ("model",),
    "operation": ("operation",),
    "day": ("day",),
}

# How the hourly rows spell a grouping column (the day is the UTC calendar day of the hour).
_HOURLY_KEY = {"day": "(hour AT TIME ZONE 'UTC')::date"}

# Filters: the column each one compares for equality, in both tables.
FILTER_COLUMNS = ("credential_id", "provider", "model", "operation", "route_id")


@dataclass(frozen=True)
class UsageQuery:
    """Which records: [start, end) and equality filters; `tenant` None means every tenant."""

    start: datetime
    end: datetime
    tenant: Tenant | None
    # Column → value, only for the filters given (FILTER_COLUMNS).
    filters: dict[str, str] = field(default_factory=dict)

    def conditions(self, first_parameter: int, prefix: str = "") -> tuple[str, list[object]]:
        """`AND …` clauses for the tenant and the filters (parameters from `first_parameter`,
        columns qualified by `prefix`), with their values."""
        pairs: list[tuple[str, object]] = []
        if self.tenant is not None:
            pairs += [
                ("organization_id", self.tenant.organization_id),
                ("project_id", self.tenant.project_id),
            ]
        pairs += [
            (column, self.filters[column]) for column in FILTER_COLUMNS if column in self.filters
        ]
        clauses = [
            f" AND {prefix}{column} = ${first_parameter + index}"
            for index, (column, _) in enumerate(pairs)
        ]
        return "".join(clauses), [value for _, value in pairs]


@dataclass
class UsageSums:
    """Sums over a set of records; cost exact (micro-dollars), rounded only when reported."""

    calls: int = 0
    failed_calls: int = 0
    unpriced_calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    audio_seconds_in: float = 0.0
    audio_seconds_out: float = 0.0
    characters: int = 0
    search_units: int = 0
    duration_seconds: float = 0.0
    cost_micros: Decimal = field(default_factory=Decimal)

    def add(self, other: UsageSums) -> None:
        for name in HOURLY_SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class UsageGroupRow:
    """One group: its key columns (only those of the groupings asked for) and its sums."""

    keys: dict[str, str | date]
    sums: UsageSums


@dataclass(frozen=True)
class RecordPiece:
    """Records of [start, end), all inside one hour, added (sign 1) or taken away (sign -1)."""

    start: datetime
    end: datetime
    sign: int


@dataclass(frozen=True)
class RangePlan:
    """How a range is summed: the hourly rows of [hours_from, hours_to) (none when equal) and
    a few pieces of records, each inside one hour."""

    hours_from: datetime
    hours_to: datetime
    pieces: tuple[RecordPiece, ...]


def _floor_hour(instant: datetime) -> datetime:
    return instant.replace(minute=0, second=0, microsecond=0)


def plan_range(start: datetime, end: datetime) -> RangePlan:
    """Whole hours from `usage_hourly`; the part of an hour at either end from the records.

    An end that covers more than half of its hour is read as that whole hour minus the records
    of the rest of it, so no more than half an hour of records is read at either end."""
    first, last = _floor_hour(start), _floor_hour(end)
    if first == last:
        # Inside one hour: its records, or the hour without those before and after them.
        if end - start <= HOUR / 2:
            return RangePlan(first, first, (RecordPiece(start, end, 1),))
        outside = (RecordPiece(first, start, -1), RecordPiece(end, first + HOUR, -1))
        return RangePlan(first, first + HOUR, tuple(p for p in outside if p.start < p.end))
    pieces = []
    hours_from, hours_to = first, last
    if start != first:
        if first + HOUR - start <= HOUR / 2:
            hours_from = first + HOUR
            pieces.append(RecordPiece(start, first + HOUR, 1))
        else:
            pieces.append(RecordPiece(first, start, -1))
    if end != last:
        if end - last <= HOUR / 2:
            pieces.append(RecordPiece(last, end, 1))
        else:
            hours_to = last + HOUR
            pieces.append(RecordPiece(end, last + HOUR, -1))
    return RangePlan(hours_from, hours_to, tuple(pieces))


def _sums_statement(
    query: UsageQuery, groupings: Sequence[str], limit: int
) -> tuple[str, list[object]]:
    columns = [column for grouping in groupings for column in GROUPINGS[grouping]]
    plan = plan_range(query.start, query.end)
    # The tenant and the filters first ($1…), shared by every part; then each part's bounds.
    conditions, arguments = query.conditions(1)

    def parameter(value: object) -> str:
        arguments.append(value)
        return f"${len(arguments)}"

    key_group = f" GROUP BY {', '.join(columns)}" if columns else ""
    parts = []
    if plan.hours_from < plan.hours_to:
        keys = [f"{_HOURLY_KEY.get(column, column)} AS {column}" for column in columns]
        sums = [f"sum({name}) AS {name}" for name in HOURLY_SUMS]
        parts.append(
            f"SELECT {', '.join([*keys, *sums])} FROM usage_hourly"  # noqa: S608 - composed from constants only
            f" WHERE hour >= {parameter(plan.hours_from)} AND hour < {parameter(plan.hours_to)}"
            f"{conditions}{key_group}"
        )
    for piece in plan.pieces:
        # A piece lies inside one hour, so inside one day: its day is a constant, which also
        # lets the planner count the groups from the columns' statistics.
        day = f"{parameter(piece.start.astimezone(UTC).date())}::date" if "day" in columns else ""
        keys = [(day if column == "day" else column) + f" AS {column}" for column in columns]
        sums = [f"{RECORD_SUM[name]} * {int(piece.sign)} AS {name}" for name in HOURLY_SUMS]
        parts.append(
            f"SELECT {', '.join([*keys, *sums])} FROM usage_records"  # noqa: S608 - composed from constants only
            f" WHERE occurred_at >= {parameter(piece.start)}"
            f" AND occurred_at < {parameter(piece.end)}{conditions}{key_group}"
        )
    outer_sums = ", ".join(
        f"coalesce(sum({name}), 0){'::bigint' if name in INTEGER_SUMS else ''} AS {name}"
        for name in HOURLY_SUMS
    )
    outer_keys = ", ".join(columns)
    # Keys in code-point order, whatever the database's collation.
    order = ", ".join(column if column == "day" else f'{column} COLLATE "C"' for column in columns)
    # A key seen only in the records taken away from an hour nets to no call: not a group.
    grouped = f" GROUP BY {outer_keys} HAVING sum(calls) <> 0 ORDER BY {order}" if columns else ""
    statement = (
        f"SELECT {outer_keys + ', ' if columns else ''}{outer_sums}"  # noqa: S608 - composed from constants only
        f" FROM ({' UNION ALL '.join(parts)}) AS parts{grouped} LIMIT {int(limit)}"
    )
    return statement, arguments


def _sums_of(record: asyncpg.Record) -> UsageSums:
    return UsageSums(**{name: record[name] for name in HOURLY_SUMS})


_SUMS_SETTINGS = (
    "SET LOCAL jit = off; SET LOCAL work_mem = '64MB';"
    " SET LOCAL plan_cache_mode = force_custom_plan"
)

# An export's columns in its lines' order (ops/usage_query.record_json).
_RECORD_COLUMNS = ", ".join(
    (
        "r.id",
        "r.occurred_at",
        *(f"r.{name}" for name in EXPORTED_AS_IS),
        "r.cost_micros",
        "p.version AS price_version",
    )
)


@dataclass(frozen=True)
class RecordPosition:
    """Where an export stands: the last record sent (records are ordered by time, then id)."""

    occurred_at: datetime
    id: uuid.UUID


class UsageQueries:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def sums(
        self, query: UsageQuery, groupings: Sequence[str], *, limit: int
    ) -> list[UsageGroupRow]:
        """The groups ordered by their keys (at most `limit`; ask for one more to detect more)."""
        statement, arguments = _sums_statement(query, groupings, limit)
        async with (
            self._pool.acquire() as connection,
            connection.transaction(readonly=True),
        ):
            # A month of hourly rows looks expensive enough to the planner to compile it (JIT),
            # which costs more than the whole answer; the groups' hash tables fit in memory; and
            # a plan made for the actual range (not the generic plan a prepared statement
            # switches to after five runs) is twice as fast.
            await connection.execute(_SUMS_SETTINGS)
            rows = await connection.fetch(statement, *arguments)
        columns = [column for grouping in groupings for column in GROUPINGS[grouping]]
        return [
            UsageGroupRow(keys={column: row[column] for column in columns}, sums=_sums_of(row))
            for row in rows
        ]

    async def records_after(
        self, query: UsageQuery, position: RecordPosition | None, limit: int
    ) -> list[asyncpg.Record]:
        """The next `limit` records of the range after `position` (from the start when None),
        oldest first: one short statement per page, so no snapshot is held between pages."""
        bounds: list[object] = [query.start, query.end]
        if position is None:
            after = ""
        else:
            after = " AND (r.occurred_at, r.id) > ($3, $4)"
            bounds += [position.occurred_at, position.id]
        conditions, values = query.conditions(len(bounds) + 1, prefix="r.")
        statement = (
            f"SELECT {_RECORD_COLUMNS} FROM usage_records AS r"  # noqa: S608 - composed from constants only
            " LEFT JOIN usage_prices AS p ON p.id = r.price_id"
            f" WHERE r.occurred_at >= $1 AND r.occurred_at < $2{after}{conditions}"
            f" ORDER BY r.occurred_at, r.id LIMIT {int(limit)}"
        )
        return await self._pool.fetch(statement, *bounds, *values)
