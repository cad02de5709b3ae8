"""Reading the usage ledger: sums over a time range, grouped as asked, and records page by page.

Sums read `usage_hourly` for the whole hours of a range and `usage_records` only for the parts
of the hours at either end, so a range of a month touches a month of hourly rows plus at most
two hours of records, and its sums are exact for any instant. Both tables are written in one
transaction by the ledger, so the two kinds of rows never disagree.

Statements are composed from constants only: groupings and filters name columns from fixed
tables below, and every value is a bind parameter.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from integration_api.principal import Tenant

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

# How each table spells a grouping column (the day is the UTC calendar day of the hour/call).
_HOURLY_KEY = {"day": "(hour AT TIME ZONE 'UTC')::date"}
_RECORD_KEY = {"day": "(occurred_at AT TIME ZONE 'UTC')::date"}

# Filters: the column each one compares for equality, in both tables.
FILTER_COLUMNS = ("credential_id", "provider", "model", "operation", "route_id")

_SUMS = (
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
_INTEGER_SUMS = frozenset(
    {
        "calls",
        "failed_calls",
        "unpriced_calls",
        "input_tokens",
        "cached_input_tokens",
        "cache_write_input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "characters",
        "search_units",
    }
)
# What one raw record adds to each sum: an unreported count adds nothing.
_RECORD_SUM = {
    "calls": "count(*)",
    "failed_calls": "count(*) FILTER (WHERE outcome <> 'ok')",
    "unpriced_calls": "count(*) FILTER (WHERE unpriced)",
    **{
        name: f"coalesce(sum({name}), 0)"
        for name in _SUMS
        if name not in ("calls", "failed_calls", "unpriced_calls")
    },
}


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
        for name in _SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class UsageGroupRow:
    """One group: its key columns (only those of the groupings asked for) and its sums."""

    keys: dict[str, str | date]
    sums: UsageSums


def whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole hours inside [start, end): [first, last) (empty when first >= last)."""
    floor_start = start.replace(minute=0, second=0, microsecond=0)
    first = floor_start if floor_start == start else floor_start + HOUR
    last = end.replace(minute=0, second=0, microsecond=0)
    return first, last


def _sums_statement(
    query: UsageQuery, groupings: Sequence[str], limit: int
) -> tuple[str, list[object]]:
    columns = [column for grouping in groupings for column in GROUPINGS[grouping]]
    hourly_keys = [f"{_HOURLY_KEY.get(column, column)} AS {column}" for column in columns]
    record_keys = [f"{_RECORD_KEY.get(column, column)} AS {column}" for column in columns]
    # $1..$6: the hourly range and the two partial ranges of raw records; filters from $7.
    conditions, values = query.conditions(7)
    hourly = ", ".join([*hourly_keys, *_SUMS])
    record = ", ".join([*record_keys, *(f"{_RECORD_SUM[name]} AS {name}" for name in _SUMS)])
    record_group = (
        f" GROUP BY {', '.join(str(index + 1) for index in range(len(columns)))}" if columns else ""
    )
    outer_sums = ", ".join(
        f"coalesce(sum({name}), 0){'::bigint' if name in _INTEGER_SUMS else ''} AS {name}"
        for name in _SUMS
    )
    outer_keys = ", ".join(columns)
    grouped = f" GROUP BY {outer_keys} ORDER BY {outer_keys}" if columns else ""
    statement = (
        f"SELECT {outer_keys + ', ' if columns else ''}{outer_sums} FROM ("  # noqa: S608 - composed from constants only
        f"SELECT {hourly} FROM usage_hourly WHERE hour >= $1 AND hour < $2{conditions}"
        f" UNION ALL SELECT {record} FROM usage_records"
        " WHERE ((occurred_at >= $3 AND occurred_at < $4)"
        " OR (occurred_at >= $5 AND occurred_at < $6))"
        f"{conditions}{record_group}) AS parts{grouped} LIMIT {int(limit)}"
    )
    first, last = whole_hours(query.start, query.end)
    if first < last:
        ranges: list[object] = [first, last, query.start, first, last, query.end]
    else:
        # Inside one hour (or across one boundary without a whole hour): records only.
        ranges = [query.end, query.end, query.start, query.end, query.end, query.end]
    return statement, [*ranges, *values]


def _sums_of(record: asyncpg.Record) -> UsageSums:
    return UsageSums(**{name: record[name] for name in _SUMS})


_RECORD_COLUMNS = (
    "r.id, r.occurred_at, r.organization_id, r.project_id, r.credential_id, r.route_id,"
    " r.route_target, r.provider, r.model, r.voice, r.operation, r.outcome, r.input_tokens,"
    " r.cached_input_tokens, r.cache_write_input_tokens, r.output_tokens, r.reasoning_tokens,"
    " r.audio_seconds_in, r.audio_seconds_out, r.characters, r.search_units, r.duration_seconds,"
    " r.provider_request_id, r.cost_micros, p.version AS price_version"
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
        rows = await self._pool.fetch(statement, *arguments)
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
