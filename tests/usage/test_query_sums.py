"""GetUsage against sums computed from the raw records: any instants, every grouping, filters."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from integration_api_proto.integration.v1 import (
    GetUsageRequest,
    UsageGrouping,
    UsageTotals,
)

from integration_api.ops.usage_query import rounded_micros
from integration_api.store.usage_columns import HOURLY_SUMS, INTEGER_SUMS
from integration_api.store.usage_queries import FILTER_COLUMNS, UsageSums
from integration_api.store.usage_records import UsageRow
from tests.usage.support import (
    PROJECT,
    Ledger,
    day_of,
    expected_groups,
    new_organization,
    random_rows,
    sums_of,
    timestamp_filter,
    within,
)

SPAN = timedelta(days=3)


@dataclass(frozen=True)
class Written:
    organization: str
    start: datetime
    rows: list[UsageRow]


@pytest.fixture(scope="module")
async def written(ledger: Ledger) -> Written:
    """3,000 records at random instants over three days (crossing UTC midnights)."""
    rng = random.Random(20261206)
    organization = new_organization()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - SPAN
    rows = random_rows(rng, organization, start, SPAN, 3000)
    await ledger.write(rows)
    return Written(organization, start, rows)


def assert_totals(totals: UsageTotals | None, expected: UsageSums) -> None:
    """Counts exactly, cost rounded once, seconds to floating-point addition's order."""
    assert totals is not None
    counts = sorted(INTEGER_SUMS)
    assert [getattr(totals, name) for name in counts] == [
        getattr(expected, name) for name in counts
    ]
    assert totals.cost_micros == rounded_micros(expected.cost_micros)
    for name in set(HOURLY_SUMS) - INTEGER_SUMS - {"cost_micros"}:
        assert getattr(totals, name) == pytest.approx(getattr(expected, name), rel=1e-9), name


def _random_instant(rng: random.Random, written: Written) -> datetime:
    # A little before the first record to a little after the last, to the microsecond.
    span = int((SPAN + timedelta(hours=2)).total_seconds() * 1_000_000)
    return written.start - timedelta(hours=1) + timedelta(microseconds=rng.randrange(span))


async def test_any_range_sums_exactly_what_its_records_sum(
    ledger: Ledger, written: Written
) -> None:
    rng = random.Random(7)
    ranges = [sorted((_random_instant(rng, written), _random_instant(rng, written)))]
    ranges += [
        sorted((_random_instant(rng, written), _random_instant(rng, written))) for _ in range(24)
    ]
    # Inside one hour, across one hour boundary, exactly on hours, one microsecond wide.
    hour = written.start + timedelta(hours=5)
    ranges += [
        [hour + timedelta(minutes=7), hour + timedelta(minutes=41)],
        [hour + timedelta(minutes=50), hour + timedelta(minutes=70)],
        [hour, hour + timedelta(hours=30)],
        [hour - timedelta(microseconds=1), hour + timedelta(hours=3, microseconds=1)],
    ]
    one = written.rows[17].occurred_at
    ranges.append([one, one + timedelta(microseconds=1)])
    for start, end in ranges:
        if start == end:
            continue
        answer = await ledger.operations.get_usage(
            GetUsageRequest(
                filter=timestamp_filter(
                    start, end, organization_id=written.organization, project_id=PROJECT
                )
            ),
            metadata=ledger.operator(),
        )
        expected = sums_of(within(written.rows, start, end))
        assert len(answer.groups) == 1
        assert_totals(answer.groups[0].totals, expected)
        assert_totals(answer.total, expected)


_KEYS: dict[UsageGrouping, Callable[[UsageRow], tuple[str, ...]]] = {
    UsageGrouping.TENANT: lambda row: (row.organization_id, row.project_id),
    UsageGrouping.CREDENTIAL: lambda row: (row.credential_id,),
    UsageGrouping.PROVIDER: lambda row: (row.provider,),
    UsageGrouping.MODEL: lambda row: (row.model,),
    UsageGrouping.OPERATION: lambda row: (row.operation,),
    UsageGrouping.DAY: lambda row: (day_of(row),),
}


def _message_key(group: object, grouping: UsageGrouping) -> tuple[str, ...]:
    fields = {
        UsageGrouping.TENANT: ("organization_id", "project_id"),
        UsageGrouping.CREDENTIAL: ("credential_id",),
        UsageGrouping.PROVIDER: ("provider",),
        UsageGrouping.MODEL: ("model",),
        UsageGrouping.OPERATION: ("operation",),
        UsageGrouping.DAY: ("day",),
    }[grouping]
    return tuple(getattr(group, name) for name in fields)


GROUPINGS = [
    *([grouping] for grouping in _KEYS),
    [UsageGrouping.DAY, UsageGrouping.TENANT],
    [UsageGrouping.PROVIDER, UsageGrouping.MODEL, UsageGrouping.OPERATION],
    [UsageGrouping.CREDENTIAL, UsageGrouping.DAY, UsageGrouping.OPERATION],
    list(_KEYS),
]


@pytest.mark.parametrize(
    "group_by", GROUPINGS, ids=lambda value: "-".join(g.name or "" for g in value)
)
async def test_each_grouping_matches_the_records(
    ledger: Ledger, written: Written, group_by: list[UsageGrouping]
) -> None:
    start = written.start + timedelta(minutes=13, seconds=5, microseconds=77)
    end = written.start + SPAN - timedelta(hours=2, minutes=21, microseconds=3)
    answer = await ledger.operations.get_usage(
        GetUsageRequest(
            filter=timestamp_filter(
                start, end, organization_id=written.organization, project_id=PROJECT
            ),
            group_by=group_by,
        ),
        metadata=ledger.operator(),
    )
    rows = within(written.rows, start, end)
    expected = expected_groups(
        rows, lambda row: tuple(itertools.chain.from_iterable(_KEYS[g](row) for g in group_by))
    )
    keys = [
        tuple(itertools.chain.from_iterable(_message_key(group, g) for g in group_by))
        for group in answer.groups
    ]
    assert keys == list(expected)
    for group, sums in zip(answer.groups, expected.values(), strict=True):
        assert_totals(group.totals, sums)
    # Keys not asked for stay empty.
    unasked = set(_KEYS) - set(group_by)
    for group in answer.groups:
        assert all(not any(_message_key(group, grouping)) for grouping in unasked)
    assert_totals(answer.total, sums_of(rows))


@pytest.mark.parametrize("name", FILTER_COLUMNS)
async def test_each_filter_keeps_only_its_records(
    ledger: Ledger, written: Written, name: str
) -> None:
    value = next(getattr(row, name) for row in written.rows if getattr(row, name))
    start, end = written.start + timedelta(minutes=30), written.start + SPAN - timedelta(minutes=30)
    answer = await ledger.operations.get_usage(
        GetUsageRequest(
            filter=timestamp_filter(
                start,
                end,
                organization_id=written.organization,
                project_id=PROJECT,
                **{name: value},
            ),
            group_by=[UsageGrouping.DAY],
        ),
        metadata=ledger.operator(),
    )
    total = sums_of(row for row in within(written.rows, start, end) if getattr(row, name) == value)
    assert 0 < total.calls < len(within(written.rows, start, end))
    assert_totals(answer.total, total)
