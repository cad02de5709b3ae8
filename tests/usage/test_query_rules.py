"""GetUsage's rules: who sees what, one rounding of cost, the group limit, and validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    GetUsageRequest,
    UsageFilter,
    UsageGrouping,
)

from integration_api.ops.usage_query import MAX_GROUPS
from integration_api.store.usage_records import UsageRow
from tests.usage.support import PROJECT, Ledger, new_organization, row_with, timestamp_filter

HOUR_AGO = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def _row(organization: str, **fields: object) -> UsageRow:
    values: dict[str, object] = {
        "occurred_at": HOUR_AGO + timedelta(minutes=10),
        "organization_id": organization,
        "project_id": PROJECT,
        "provider": "prov-one",
        "operation": "chat",
        "input_tokens": 10,
        "output_tokens": 5,
    }
    values.update(fields)
    return row_with(**values)


def _range(**fields: str) -> UsageFilter:
    return timestamp_filter(HOUR_AGO - timedelta(hours=1), HOUR_AGO + timedelta(hours=2), **fields)


async def _refused(
    ledger: Ledger, request: GetUsageRequest, metadata: object
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ledger.operations.get_usage(request, metadata=metadata)  # type: ignore[arg-type]
    return raised.value


async def test_a_tenant_sees_its_own_usage_and_never_another_tenants(ledger: Ledger) -> None:
    alpha, beta = new_organization(), new_organization()
    await ledger.write([_row(alpha, input_tokens=100), _row(beta, input_tokens=7), _row(beta)])
    own = await ledger.operations.get_usage(
        GetUsageRequest(filter=_range(), group_by=[UsageGrouping.TENANT]),
        metadata=ledger.tenant(alpha),
    )
    assert [(group.organization_id, group.project_id) for group in own.groups] == [(alpha, PROJECT)]
    assert own.total is not None and own.total.input_tokens == 100
    named = await ledger.operations.get_usage(
        GetUsageRequest(filter=_range(organization_id=alpha, project_id=PROJECT)),
        metadata=ledger.tenant(alpha),
    )
    assert named.total is not None and named.total.calls == 1
    refused = await _refused(
        ledger,
        GetUsageRequest(filter=_range(organization_id=beta, project_id=PROJECT)),
        ledger.tenant(alpha),
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    everyone = await ledger.operations.get_usage(
        GetUsageRequest(filter=_range(), group_by=[UsageGrouping.TENANT]),
        metadata=ledger.operator(),
    )
    by_tenant = {group.organization_id: group.totals for group in everyone.groups}
    assert by_tenant[alpha] is not None and by_tenant[alpha].calls == 1
    assert by_tenant[beta] is not None and by_tenant[beta].calls == 2
    assert by_tenant[beta].input_tokens == 17
    one = await ledger.operations.get_usage(
        GetUsageRequest(filter=_range(organization_id=beta, project_id=PROJECT)),
        metadata=ledger.operator(),
    )
    assert one.total is not None and one.total.calls == 2


async def test_cost_is_summed_exactly_and_rounded_once(ledger: Ledger) -> None:
    organization = new_organization()
    # Three credentials, 0.4 micro-dollars each: every group rounds to 0, the total 1.2 to 1.
    await ledger.write(
        [
            _row(organization, credential_id=name, cost_micros=Decimal("0.200000"))
            for name in ("a", "a", "b", "b", "c", "c")
        ]
        + [_row(organization, credential_id="d", cost_micros=Decimal("2.500000"))]
    )
    answer = await ledger.operations.get_usage(
        GetUsageRequest(
            filter=_range(organization_id=organization, project_id=PROJECT),
            group_by=[UsageGrouping.CREDENTIAL],
        ),
        metadata=ledger.operator(),
    )
    costs = {
        group.credential_id: group.totals.cost_micros for group in answer.groups if group.totals
    }
    # Half a micro-dollar rounds away from zero.
    assert costs == {"a": 0, "b": 0, "c": 0, "d": 3}
    assert answer.total is not None and answer.total.cost_micros == 4  # 3.7 → 4, not 0+0+0+3


async def test_more_groups_than_the_limit_is_a_failed_precondition(ledger: Ledger) -> None:
    organization = new_organization()
    await ledger.write(
        [_row(organization, credential_id=f"c{index:05}") for index in range(MAX_GROUPS + 1)]
    )
    request = GetUsageRequest(
        filter=_range(organization_id=organization, project_id=PROJECT),
        group_by=[UsageGrouping.CREDENTIAL],
    )
    refused = await _refused(ledger, request, ledger.operator())
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "narrow the filter" in (refused.details() or "")
    # At the limit, every group is answered, in key order (the range now ends inside the
    # hour, so its records are read, one fewer).
    request.filter.end_time = HOUR_AGO + timedelta(minutes=10, microseconds=1)
    await ledger.connection.execute(
        "DELETE FROM usage_records WHERE organization_id = $1 AND credential_id = 'c10000'",
        organization,
    )
    answer = await ledger.operations.get_usage(request, metadata=ledger.operator())
    assert len(answer.groups) == MAX_GROUPS
    assert [group.credential_id for group in answer.groups[:2]] == ["c00000", "c00001"]


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("selection", "group_by", "field"),
    [
        (UsageFilter(end_time=NOW), [], "filter.start_time"),
        (UsageFilter(start_time=NOW), [], "filter.end_time"),
        (None, [], "filter.start_time"),
        (UsageFilter(start_time=NOW, end_time=NOW), [], "filter.end_time"),
        (UsageFilter(start_time=NOW, end_time=NOW - timedelta(hours=1)), [], "filter.end_time"),
        (UsageFilter(start_time=NOW, end_time=NOW + timedelta(days=401)), [], "filter.end_time"),
        (
            UsageFilter(start_time=NOW, end_time=NOW + timedelta(hours=1), organization_id="o"),
            [],
            "filter.organization_id",
        ),
        (
            UsageFilter(start_time=NOW, end_time=NOW + timedelta(hours=1)),
            [UsageGrouping.UNSPECIFIED],
            "group_by",
        ),
    ],
)
async def test_invalid_requests_name_the_field(
    ledger: Ledger, selection: UsageFilter | None, group_by: list[UsageGrouping], field: str
) -> None:
    refused = await _refused(
        ledger, GetUsageRequest(filter=selection, group_by=group_by), ledger.operator()
    )
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (refused.details() or "").startswith(field)


async def test_an_unknown_grouping_number_is_invalid(ledger: Ledger) -> None:
    # A client newer than the service may send a grouping the service does not know.
    request = GetUsageRequest.parse(bytes(GetUsageRequest(filter=_range())) + bytes([0x10, 99]))
    refused = await _refused(ledger, request, ledger.operator())
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_four_hundred_days_is_allowed(ledger: Ledger) -> None:
    answer = await ledger.operations.get_usage(
        GetUsageRequest(filter=UsageFilter(start_time=NOW - timedelta(days=400), end_time=NOW)),
        metadata=ledger.tenant(new_organization()),
    )
    assert answer.total is not None and answer.total.calls == 0
    assert len(answer.groups) == 1


async def test_a_key_only_outside_the_range_is_no_group(ledger: Ledger) -> None:
    """Most of an hour is read as the hour minus its other records: a credential whose only
    call is in that rest nets to nothing and is not listed."""
    organization = new_organization()
    await ledger.write(
        [
            _row(organization, credential_id="early", occurred_at=HOUR_AGO + timedelta(minutes=2)),
            _row(
                organization, credential_id="inside", occurred_at=HOUR_AGO + timedelta(minutes=30)
            ),
        ]
    )
    answer = await ledger.operations.get_usage(
        GetUsageRequest(
            filter=timestamp_filter(
                HOUR_AGO + timedelta(minutes=5),
                HOUR_AGO + timedelta(minutes=59),
                organization_id=organization,
                project_id=PROJECT,
            ),
            group_by=[UsageGrouping.CREDENTIAL],
        ),
        metadata=ledger.operator(),
    )
    assert [group.credential_id for group in answer.groups] == ["inside"]
    assert answer.total is not None and answer.total.calls == 1
