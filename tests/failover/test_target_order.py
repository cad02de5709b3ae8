"""The order a route's targets are tried in, and which failures move a call on."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)
from integration_api.routes.model import Route, RoutePolicy, RouteTarget
from integration_api.routes.order import TargetOrder
from integration_api.routes.outcomes import MOVES_ON, outcome_of
from integration_api.upstream.limits import answer_too_slow, event_gap_too_long, tenant_call_limit


def _route(policy: RoutePolicy, *weights: int) -> Route:
    now = datetime.now(UTC)
    targets = tuple(RouteTarget(f"credential-{i}", weight=w) for i, w in enumerate(weights))
    return Route("route-1", "tenant", "r", policy, targets, None, now, now, "someone", 1)


def _indexes(order: TargetOrder, fail_called: bool = False) -> list[int]:
    seen = []
    for index, _ in order:
        seen.append(index)
        if fail_called:
            order.called_and_failed()
    return seen


def test_failover_tries_the_targets_in_the_routes_order() -> None:
    assert _indexes(TargetOrder(_route("failover", 1, 5, 1))) == [0, 1, 2]


def test_balance_picks_by_weight_then_after_a_called_target_failed_goes_in_order() -> None:
    chooser = random.Random(7)
    firsts: Counter[int] = Counter()
    for _ in range(4000):
        order = _indexes(TargetOrder(_route("balance", 6, 3, 1), chooser), fail_called=True)
        firsts[order[0]] += 1
        assert sorted(order) == [0, 1, 2]
        assert order[1:] == sorted(order[1:])
    assert 0.55 < firsts[0] / 4000 < 0.65
    assert 0.25 < firsts[1] / 4000 < 0.35
    assert 0.05 < firsts[2] / 4000 < 0.15


def test_balance_keeps_choosing_by_weight_past_skipped_targets() -> None:
    chooser = random.Random(11)
    seconds: Counter[int] = Counter()
    for _ in range(4000):
        order = _indexes(TargetOrder(_route("balance", 1, 1, 20), chooser))
        if order[0] != 2:
            seconds[order[1]] += 1
    # After a skip the heavy target is nearly always next, though it stands last in the route.
    assert seconds[2] / sum(seconds.values()) > 0.85


def test_is_last_says_when_nothing_is_left() -> None:
    order = TargetOrder(_route("failover", 1, 1))
    lasts = [order.is_last() for _ in order]
    assert lasts == [False, True]


def test_which_failures_move_on() -> None:
    refused_key = FailedPrecondition("x", reason="CREDENTIAL_REJECTED")
    disabled = FailedPrecondition("x", reason="CREDENTIAL_DISABLED")
    unreachable = Unavailable("x", metadata={"transport_failure": "connection_refused"})
    silent = DeadlineExceeded("x", metadata={"transport_failure": "read_timeout"})
    model_404 = NotFound("x", metadata={"provider_http_status": "404"})
    cases = {
        "key_refused": refused_key,
        "skipped_unavailable": disabled,
        "unreachable": unreachable,
        "rate_limited": ResourceExhausted("x"),
        "skipped_rate_limited": ResourceExhausted("x", reason="CREDENTIAL_RATE_LIMITED"),
        "skipped_breaker_open": Unavailable("x", reason="CIRCUIT_OPEN"),
        "provider_error": Unavailable("x"),
    }
    for outcome, error in cases.items():
        assert outcome_of(error) == outcome
        assert outcome in MOVES_ON
    assert outcome_of(silent) == "unreachable"
    for error in (InvalidArgument("x"), DeadlineExceeded("x"), model_404):
        assert outcome_of(error) == "failed"
        assert "failed" not in MOVES_ON


def test_a_provider_silent_before_its_first_event_moves_on() -> None:
    # The stream's own bounds (no event for too long, no end in time) are the provider's
    # silence, not the caller's deadline: another target may well answer.
    for error in (event_gap_too_long("openai", 120.0), answer_too_slow("openai", 600.0)):
        assert outcome_of(error) == "unreachable"


def test_the_tenants_own_call_limit_ends_the_call() -> None:
    # The cap counts the tenant's calls on every credential alike: the next target would be
    # refused the same way, and no provider was called to be reported as rate limiting.
    assert outcome_of(tenant_call_limit(256)) == "failed"
