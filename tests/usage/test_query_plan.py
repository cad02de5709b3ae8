"""How a range is split: whole hours from the hourly sums, at most half an hour of records at
either end, and every instant of the range counted exactly once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from integration_api.store.usage_queries import HOUR, plan_range

ORIGIN = datetime(2026, 12, 6, 10, tzinfo=UTC)


def _weight(instant: datetime, start: datetime, end: datetime) -> int:
    """How many times the plan counts `instant` (an hour's rows count it once, a piece ±1)."""
    plan = plan_range(start, end)
    count = int(plan.hours_from <= instant < plan.hours_to)
    for piece in plan.pieces:
        if piece.start <= instant < piece.end:
            count += piece.sign
    return count


def test_every_instant_inside_counts_once_and_none_outside() -> None:
    rng = random.Random(11)
    for _ in range(300):
        start = ORIGIN + timedelta(microseconds=rng.randrange(5 * 3600 * 10**6))
        end = start + timedelta(microseconds=rng.randrange(1, 4 * 3600 * 10**6))
        plan = plan_range(start, end)
        for piece in plan.pieces:
            assert piece.end - piece.start <= HOUR / 2
            assert piece.start.replace(minute=0, second=0, microsecond=0) == (
                (piece.end - timedelta(microseconds=1)).replace(minute=0, second=0, microsecond=0)
            )
        edges = [start, end - timedelta(microseconds=1), start - timedelta(microseconds=1), end]
        probes = edges + [
            start
            - HOUR
            + timedelta(
                microseconds=rng.randrange(
                    int(3 * HOUR / timedelta(microseconds=1))
                    + int((end - start) / timedelta(microseconds=1))
                )
            )
            for _ in range(40)
        ]
        for instant in probes:
            assert _weight(instant, start, end) == int(start <= instant < end), (
                start,
                end,
                instant,
            )


def test_whole_hours_read_no_records() -> None:
    plan = plan_range(ORIGIN, ORIGIN + timedelta(days=30))
    assert (plan.hours_from, plan.hours_to, plan.pieces) == (
        ORIGIN,
        ORIGIN + timedelta(days=30),
        (),
    )


def test_a_short_range_inside_an_hour_reads_only_its_records() -> None:
    start = ORIGIN + timedelta(minutes=5)
    plan = plan_range(start, start + timedelta(minutes=20))
    assert plan.hours_from == plan.hours_to
    assert [(piece.start, piece.end, piece.sign) for piece in plan.pieces] == [
        (start, start + timedelta(minutes=20), 1)
    ]


def test_most_of_an_hour_is_the_hour_without_the_rest() -> None:
    start, end = ORIGIN + timedelta(minutes=5), ORIGIN + timedelta(minutes=50)
    plan = plan_range(start, end)
    assert (plan.hours_from, plan.hours_to) == (ORIGIN, ORIGIN + HOUR)
    assert [(piece.start, piece.end, piece.sign) for piece in plan.pieces] == [
        (ORIGIN, start, -1),
        (end, ORIGIN + HOUR, -1),
    ]
