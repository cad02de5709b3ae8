"""GetUsage and ExportUsage messages to and from the ledger's queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from integration_api_proto.integration.v1 import (
    GetUsageResponse,
    UsageFilter,
    UsageGroup,
    UsageGrouping,
    UsageTotals,
)

from integration_api.errors import InvalidArgument
from integration_api.ops.usage_query import UsageReport, UsageSelection, rounded_micros
from integration_api.store.usage_columns import HOURLY_SUMS
from integration_api.store.usage_queries import UsageGroupRow, UsageSums

_GROUPINGS = {
    UsageGrouping.TENANT: "tenant",
    UsageGrouping.CREDENTIAL: "credential",
    UsageGrouping.PROVIDER: "provider",
    UsageGrouping.MODEL: "model",
    UsageGrouping.OPERATION: "operation",
    UsageGrouping.DAY: "day",
}


def usage_selection_from_message(selection: UsageFilter | None) -> UsageSelection:
    if selection is None:
        return UsageSelection(start=None, end=None)
    return UsageSelection(
        start=selection.start_time,
        end=selection.end_time,
        organization_id=selection.organization_id,
        project_id=selection.project_id,
        credential_id=selection.credential_id,
        provider=selection.provider,
        model=selection.model,
        operation=selection.operation,
        route_id=selection.route_id,
    )


def groupings_from_message(group_by: Sequence[UsageGrouping]) -> list[str]:
    names = []
    for grouping in group_by:
        name = _GROUPINGS.get(grouping)
        if name is None:
            raise InvalidArgument.for_field(
                "group_by", f"{int(grouping)} is not a grouping (TENANT, CREDENTIAL, …, DAY)"
            )
        names.append(name)
    return names


def usage_totals_message(sums: UsageSums) -> UsageTotals:
    # Each sum under its column's name; cost rounded once, here where it is reported.
    fields: dict[str, Any] = {name: getattr(sums, name) for name in HOURLY_SUMS}
    fields["cost_micros"] = rounded_micros(sums.cost_micros)
    return UsageTotals(**fields)


def _key(row: UsageGroupRow, column: str) -> str:
    value = row.keys.get(column, "")
    return value.isoformat() if isinstance(value, date) else value


def usage_group_message(row: UsageGroupRow) -> UsageGroup:
    return UsageGroup(
        organization_id=_key(row, "organization_id"),
        project_id=_key(row, "project_id"),
        credential_id=_key(row, "credential_id"),
        provider=_key(row, "provider"),
        model=_key(row, "model"),
        operation=_key(row, "operation"),
        day=_key(row, "day"),
        totals=usage_totals_message(row.sums),
    )


def usage_response(report: UsageReport) -> GetUsageResponse:
    return GetUsageResponse(
        groups=[usage_group_message(row) for row in report.groups],
        total=usage_totals_message(report.total),
    )
