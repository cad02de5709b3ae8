"""Chat through a route: the first target to produce a part streams the whole answer.

The pipeline reads its provider's first part before anything is sent, so an attempt is over,
one way or the other, before the caller sees a byte: a target that fails before it hands the
call to the next, and the parts that follow all come from the target that produced it. A
failure after that ends the call with its error, as a call naming the credential would: content
from two targets is never joined. The answer's `Finish` travels with the route's report, its
timing taken over the whole call (a failed attempt's time is time the caller waited).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Generic, TypeVar

from integration_api.llm.contract import ChatRequest, Finish, StreamPart, Timing
from integration_api.llm.pipeline import ChatService
from integration_api.llm.timing import Deadline
from integration_api.principal import Tenant
from integration_api.routes.credential_providers import ProviderNotingCredentials
from integration_api.routes.failover import RoutedCall
from integration_api.routes.model import RouteReport, RouteTarget
from integration_api.routes.ports import RouteSource
from integration_api.usage.ports import NO_BUDGETS, BudgetGuard

ClientT = TypeVar("ClientT")
Parts = AsyncGenerator[StreamPart, None]


@dataclasses.dataclass(frozen=True, slots=True)
class RoutedFinish:
    """The last part of a routed answer: the target's `Finish` and the route's report."""

    finish: Finish
    route: RouteReport


@dataclasses.dataclass(frozen=True)
class RoutedPipelines(Generic[ClientT]):
    """The same pipeline twice over the route's credentials: calling once, and with retries."""

    once: ChatService[ClientT]
    retrying: ChatService[ClientT]
    credentials: ProviderNotingCredentials


class RoutedChat(Generic[ClientT]):
    """Streams chat answers through stored routes."""

    def __init__(
        self,
        routes: RouteSource,
        pipelines: RoutedPipelines[ClientT],
        *,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._routes = routes
        self._pipelines = pipelines
        self._budgets = budgets

    async def stream(
        self, tenant: Tenant, route_id: str, request: ChatRequest, deadline: Deadline
    ) -> AsyncIterator[StreamPart | RoutedFinish]:
        """The parts of one target's answer, its `Finish` as a `RoutedFinish`, or an error."""
        started = time.perf_counter()
        route = await self._routes.route_for_use(tenant, route_id)
        call = RoutedCall(
            route, "chat", tenant, self._pipelines.credentials, request.model, budgets=self._budgets
        )

        async def attempt(target: RouteTarget, last: bool) -> tuple[Parts, StreamPart]:
            return await self._first_part(tenant, target, request, deadline, last)

        parts, part = await call.first_answer(attempt, deadline)
        first_part_after = time.perf_counter() - started
        try:
            while not isinstance(part, Finish):
                yield part
                part = await anext(parts)
            timing = _whole_call(part.timing, first_part_after, time.perf_counter() - started)
            yield RoutedFinish(dataclasses.replace(part, timing=timing), call.report())
        finally:
            await parts.aclose()

    async def _first_part(
        self,
        tenant: Tenant,
        target: RouteTarget,
        request: ChatRequest,
        deadline: Deadline,
        last: bool,
    ) -> tuple[Parts, StreamPart]:
        pipeline = self._pipelines.retrying if last else self._pipelines.once
        for_target = dataclasses.replace(
            request, credential_id=target.credential_id, model=target.model or request.model
        )
        parts = pipeline.stream(tenant, for_target, deadline)
        try:
            return parts, await anext(parts)
        except BaseException:
            await parts.aclose()
            raise


def _whole_call(answering: Timing | None, first_part_after: float, total: float) -> Timing | None:
    """The answer's timing over the whole routed call, failed attempts included: the caller
    waited for them too. The gateway overhead stays the answering attempt's own."""
    if answering is None:
        return None
    return Timing(
        time_to_first_token=first_part_after,
        gateway_overhead=answering.gateway_overhead,
        total=total,
    )
