"""One speech call through a route: its targets tried in turn until one produces first content.

Kept apart from the three operations (`routes.speech`), which only say what an attempt is and
which of its events are content. The order of the targets, which failures move on and the
counters are those of every call through a route (`order`, `outcomes`, `metrics`). Everything
runs in the caller's task: an attempt that misses the route's deadline is cancelled where it
waits, which ends its provider session at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog

from integration_api.errors import ServiceError
from integration_api.principal import Tenant
from integration_api.routes import metrics
from integration_api.routes.attempts import name_route_in, note_attempt
from integration_api.routes.model import Attempt, AttemptOutcome, Route, RouteReport, RouteTarget
from integration_api.routes.order import TargetOrder
from integration_api.routes.outcomes import MOVES_ON, SKIPPED, first_token_timeout, outcome_of
from integration_api.routes.speech_replay import Feed, ReplayableInputs
from integration_api.routes.usage import attempt_of
from integration_api.upstream.stream_errors import truncated

log = structlog.get_logger("integration_api.routes")

EventT = TypeVar("EventT")
InputT = TypeVar("InputT")

# Makes one attempt: the pipeline's session with a target, fed the replayable inputs if any.
AttemptCall = Callable[[RouteTarget, Feed[InputT] | None], AsyncGenerator[EventT, None]]


@dataclass(frozen=True)
class Operation(Generic[EventT]):
    """What tells one operation's events apart."""

    name: str
    # The first of these reaching the caller binds the call to its target.
    is_content: Callable[[EventT], bool]
    # Passed on at once before the first content, once per call (`routes.speech`).
    is_passed_early: Callable[[EventT], bool]


@dataclass
class RoutedCall(Generic[EventT]):
    """What one call through a route has tried so far."""

    tenant: Tenant
    route: Route
    operation: Operation[EventT]
    # The model the caller asked for, reported where a target names none.
    requested_model: str
    chooser: random.Random | None = None
    attempts: list[Attempt] = field(default_factory=list)
    answered_by: int | None = None
    _passed_early: bool = False

    def report(self) -> RouteReport:
        return RouteReport(self.route.id, self.answered_by, tuple(self.attempts))

    def answered_with(self, provider: str) -> None:
        """The answering target's provider, learnt from its final event."""
        if self.attempts and self.attempts[-1].outcome == "answered":
            self.attempts[-1] = dataclasses.replace(self.attempts[-1], provider=provider)

    async def run(
        self,
        attempt: AttemptCall[InputT, EventT],
        replay: ReplayableInputs[InputT] | None,
        *,
        deadline_from_start: bool,
    ) -> AsyncGenerator[EventT, None]:
        """The answering target's events; or the error that ended the call.

        `deadline_from_start`: the first-content deadline counts from the start of each attempt
        (else from when its feed says an answer is owed).
        """
        # Closed as soon as the caller stops reading, so the target's session ends with the call.
        async with aclosing(self._attempts(attempt, replay, deadline_from_start)) as events:
            try:
                async for event in events:
                    yield event
            except ServiceError as error:
                name_route_in(error, self.route.id, self.attempts)
                raise

    async def _attempts(
        self,
        attempt: AttemptCall[InputT, EventT],
        replay: ReplayableInputs[InputT] | None,
        deadline_from_start: bool,
    ) -> AsyncGenerator[EventT, None]:
        label = metrics.route_label(self.tenant, self.route.id)
        order = TargetOrder(self.route, self.chooser)
        for index, target in order:
            last = order.is_last()
            started = time.perf_counter()
            feed = replay.feed() if replay is not None else None
            owed = _Owed(None if deadline_from_start else feed)
            timeout = None if last else self.route.first_token_timeout
            # The pipeline opens its session's record when the attempt is made: attributed here.
            with attempt_of(self.route.id, index):
                session = attempt(target, feed)
            async with aclosing(session) as events:
                held: list[EventT] = []
                first: EventT | None = None
                try:
                    while first is None:
                        event = await _next(events, owed, timeout)
                        if self.operation.is_content(event):
                            first = event
                        elif self.operation.is_passed_early(event):
                            if not self._passed_early:
                                self._passed_early = True
                                yield event
                        else:
                            held.append(event)
                except ServiceError as error:
                    outcome = outcome_of(error)
                    self._note(index, target, outcome, started, label, error)
                    can_replay = replay is None or replay.replayable
                    if last or outcome not in MOVES_ON or not can_replay:
                        raise
                    if outcome not in SKIPPED:
                        order.called_and_failed()
                    metrics.count_failover(label, index, self.operation.name)
                    log.info(
                        "route moved on",
                        route_id=self.route.id,
                        target=index,
                        outcome=outcome,
                        reason=error.reason,
                    )
                    continue
                # Bound to this target from here: nothing of another may follow.
                if replay is not None:
                    replay.commit()
                self.answered_by = index
                self._note(index, target, "answered", started, label, None)
                try:
                    for event in held:
                        yield event
                    yield first
                    async for event in events:
                        yield event
                except ServiceError as error:
                    # Too late to move on: the answering attempt failed, and the call with it.
                    self.attempts[-1] = dataclasses.replace(
                        self.attempts[-1], outcome="failed", reason=error.reason
                    )
                    raise
                return

    def _note(
        self,
        index: int,
        target: RouteTarget,
        outcome: AttemptOutcome,
        started: float,
        label: str,
        error: ServiceError | None,
    ) -> None:
        note_attempt(
            self.attempts,
            label=label,
            operation=self.operation.name,
            index=index,
            target=target,
            outcome=outcome,
            started=started,
            # The answering target's provider comes with its final event (`answered_with`).
            provider=(error.provider or "") if error is not None else "",
            requested_model=self.requested_model,
            error=error,
        )


class _Owed:
    """Since when an attempt owes its first content: its start, or what its feed says."""

    def __init__(self, feed: Feed[Any] | None) -> None:
        self._feed = feed
        self._start = asyncio.get_running_loop().time()

    def when(self, callback: Callable[[float], None] | None) -> None:
        if self._feed is not None:
            self._feed.when_owed(callback)
        elif callback is not None:
            callback(self._start)


async def _next(events: AsyncIterator[EventT], owed: _Owed, limit: float | None) -> EventT:
    """The attempt's next event, within the route's deadline once an answer is owed."""
    try:
        if limit is None:
            return await anext(events)
        async with asyncio.timeout(None) as scope:
            owed.when(lambda at: scope.reschedule(at + limit))
            try:
                return await anext(events)
            finally:
                owed.when(None)
    except StopAsyncIteration:
        # The pipeline always ends with a final event or an error; never trust a silent end.
        raise truncated("") from None
    except TimeoutError:
        if limit is not None and scope.expired():
            raise first_token_timeout(limit) from None
        raise
