"""Balanced routes spread calls by weight; every attempt and failover is counted per target."""

from __future__ import annotations

from collections import Counter

from integration_api_proto.integration.v1 import RoutePolicy
from prometheus_client import REGISTRY, generate_latest

from tests.failover.support import Target, chat_through, create_route, from_one_target
from tests.support.service import RunningService


async def test_a_balanced_route_spreads_calls_by_weight(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(
        service,
        first.credential_id,
        second.credential_id,
        policy=RoutePolicy.BALANCE,
        weights=(3, 1),
    )
    answered: Counter[str] = Counter()
    for _ in range(60):
        answer = await chat_through(service, route)
        answered[from_one_target(answer, first, second).name] += 1
    assert answered["alpha"] > answered["bravo"] > 0


async def test_a_balanced_route_fails_over_to_the_healthy_target(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(
        service, first.credential_id, second.credential_id, policy=RoutePolicy.BALANCE
    )
    first.provider.behave("server_error")
    for _ in range(10):
        answer = await chat_through(service, route)
        assert from_one_target(answer, first, second) is second


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_attempts_and_failovers_are_counted_per_route_and_target(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("rate_limited")
    for _ in range(3):
        await chat_through(service, route)
    attempts = "integration_api_route_attempts_total"
    labels = {"route": route, "operation": "chat"}
    assert _sample(attempts, **labels, target="0", outcome="rate_limited") == 3
    assert _sample(attempts, **labels, target="1", outcome="answered") == 3
    failovers = "integration_api_route_failovers_total"
    assert _sample(failovers, **labels, target="0") == 3
    assert _sample(failovers, **labels, target="1") == 0
    # Labels are ids and positions: no key of any target is ever in the metrics.
    exposed = generate_latest(REGISTRY).decode()
    assert first.key not in exposed and second.key not in exposed
