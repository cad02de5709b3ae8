"""A speech call through a balanced route tries its targets in the order every routed call does
(`routes.order`): a skipped target is replaced by another weighted pick, and once a called target
failed the rest follow in the route's order."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from integration_api.errors import ResourceExhausted, ServiceError, Unavailable
from integration_api.principal import Tenant
from integration_api.routes.model import CREDENTIAL_RATE_LIMITED, Route, RouteTarget
from integration_api.routes.speech_call import Operation, RoutedCall
from integration_api.routes.speech_replay import Feed

TENANT = Tenant("org-order", "project-order")
# Events are strings here: "audio" is content.
OPERATION: Operation[str] = Operation(
    "synthesize", is_content=lambda event: event == "audio", is_passed_early=lambda _: False
)


def balanced(*weights: int) -> Route:
    now = datetime.now(UTC)
    targets = tuple(RouteTarget(f"credential-{i}", weight=w) for i, w in enumerate(weights))
    return Route("route-order", "t", "r", "balance", targets, None, now, now, "someone", 1)


async def tried(route: Route, chooser: random.Random, failure: ServiceError) -> list[int]:
    """The targets a call tried, each but the last answering target failing with `failure`."""
    answering = len(route.targets) - 1
    seen: list[int] = []

    async def attempt(target: RouteTarget, _feed: Feed[str] | None) -> AsyncGenerator[str, None]:
        index = int(target.credential_id.rsplit("-", 1)[1])
        seen.append(index)
        if index != answering:
            raise failure
        yield "audio"

    call = RoutedCall(TENANT, route, OPERATION, "model", chooser)
    assert [event async for event in call.run(attempt, None, deadline_from_start=True)]
    return seen


async def test_a_skipped_target_is_replaced_by_another_weighted_pick() -> None:
    chooser = random.Random(5)
    skipped = ResourceExhausted("at its limit", reason=CREDENTIAL_RATE_LIMITED)
    seconds: Counter[int] = Counter()
    for _ in range(2000):
        order = await tried(balanced(1, 1, 20, 1), chooser, skipped)
        if order[0] not in (2, 3):
            seconds[order[1]] += 1
    # The heavy target comes next nearly always, though it stands third in the route.
    assert seconds[2] / sum(seconds.values()) > 0.85


async def test_after_a_called_target_failed_the_rest_follow_in_the_routes_order() -> None:
    chooser = random.Random(5)
    for _ in range(300):
        order = await tried(balanced(1, 1, 20, 1), chooser, Unavailable("503"))
        rest = order[1:]
        assert rest == sorted(rest) and order[-1] == 3
