"""What the usage ledger answers: sums over a time range (GetUsage) and every record (ExportUsage).

A tenant caller sees its own tenant and naming another is refused, as in the inventory and the
audit trail; an operator sees the tenant it names, or every tenant. Cost is summed exactly
(micro-dollars as NUMERIC) and rounded once, half away from zero, where a sum is reported.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from integration_api.database import Database
from integration_api.errors import FailedPrecondition, InvalidArgument
from integration_api.ops.access import visible_tenant
from integration_api.principal import Principal
from integration_api.store.usage_columns import EXPORTED_AS_IS
from integration_api.store.usage_queries import (
    FILTER_COLUMNS,
    GROUPINGS,
    RecordPosition,
    UsageGroupRow,
    UsageQueries,
    UsageQuery,
    UsageSums,
)

if TYPE_CHECKING:
    import asyncpg

MAX_RANGE = timedelta(days=400)
MAX_GROUPS = 10_000
# Records per page of an export: memory stays bounded whatever the range holds.
EXPORT_PAGE = 1000


@dataclass(frozen=True)
class UsageSelection:
    """The request's filter; empty strings do not filter."""

    start: datetime | None
    end: datetime | None
    organization_id: str = ""
    project_id: str = ""
    credential_id: str = ""
    provider: str = ""
    model: str = ""
    operation: str = ""
    route_id: str = ""


@dataclass(frozen=True)
class UsageReport:
    groups: list[UsageGroupRow]
    total: UsageSums


def rounded_micros(micros: Decimal) -> int:
    """The one rounding of a cost: to whole micro-dollars, half away from zero."""
    return int(micros.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def exact_decimal(value: Decimal) -> str:
    """A decimal as plain digits, without trailing zeros or an exponent ("12.5", "0")."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _query(principal: Principal, selection: UsageSelection) -> UsageQuery:
    if selection.start is None:
        raise InvalidArgument.for_field("filter.start_time", "is required")
    if selection.end is None:
        raise InvalidArgument.for_field("filter.end_time", "is required")
    start, end = selection.start.astimezone(UTC), selection.end.astimezone(UTC)
    if end <= start:
        raise InvalidArgument.for_field("filter.end_time", "must be after start_time")
    if end - start > MAX_RANGE:
        raise InvalidArgument.for_field(
            "filter.end_time", f"at most {MAX_RANGE.days} days after start_time"
        )
    try:
        tenant = visible_tenant(principal, selection.organization_id, selection.project_id)
    except InvalidArgument:
        raise InvalidArgument.for_field(
            "filter.organization_id", "name both organization_id and project_id, or neither"
        ) from None
    # The selection names each filter after the column it compares.
    filters = {column: getattr(selection, column) for column in FILTER_COLUMNS}
    return UsageQuery(
        start=start,
        end=end,
        tenant=tenant,
        filters={column: value for column, value in filters.items() if value},
    )


def _groupings(names: Sequence[str]) -> list[str]:
    """The groupings asked for, each once, in the order asked."""
    unknown = [name for name in names if name not in GROUPINGS]
    if unknown:
        raise InvalidArgument.for_field(
            "group_by", f"unknown grouping; one of {', '.join(GROUPINGS)}"
        )
    return list(dict.fromkeys(names))


def record_json(record: asyncpg.Record) -> str:
    """One record as the export's JSON object (usage.proto documents the fields), its fields in
    the order the query reads them (`store/usage_queries.py`)."""
    occurred_at: datetime = record["occurred_at"]
    line: dict[str, object] = {
        "id": str(record["id"]),
        "occurred_at": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
    for name in EXPORTED_AS_IS:
        line[name] = record[name]
    line["cost_micros"] = exact_decimal(record["cost_micros"])
    if record["price_version"] is not None:
        line["price_version"] = record["price_version"]
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False)


class UsageReports:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def usage(
        self, principal: Principal, selection: UsageSelection, group_by: Sequence[str]
    ) -> UsageReport:
        """The groups ordered by their keys in the order of `group_by`, and their total."""
        query = _query(principal, selection)
        groupings = _groupings(group_by)
        rows = await UsageQueries(self._database.pool).sums(query, groupings, limit=MAX_GROUPS + 1)
        if len(rows) > MAX_GROUPS:
            raise FailedPrecondition(
                f"more than {MAX_GROUPS} groups: narrow the filter or group by less",
                reason="TOO_MANY_GROUPS",
            )
        total = UsageSums()
        for row in rows:
            total.add(row.sums)
        return UsageReport(groups=rows, total=total)

    async def export(self, principal: Principal, selection: UsageSelection) -> AsyncIterator[str]:
        """Every matching record of the range, oldest first, one JSON object per record."""
        query = _query(principal, selection)
        queries = UsageQueries(self._database.pool)
        position: RecordPosition | None = None
        while True:
            records = await queries.records_after(query, position, EXPORT_PAGE)
            for record in records:
                yield record_json(record)
            if len(records) < EXPORT_PAGE:
                return
            last = records[-1]
            position = RecordPosition(last["occurred_at"], last["id"])
