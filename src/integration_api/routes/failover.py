"""One call through a route: try its targets in turn until one produces its first content.

The attempt itself is the pipeline's (chat, embed, rerank): the route only decides which
credential and model it is made with, and whether to move on when it fails. Moving on happens
only before the first content reaches the caller; the attempt returns at that moment, so nothing
of a failed target is ever sent.

Two choices keep a failover cheap, which matters most on a live call:
- every target but the last is called once: the pipeline's own retry of the same credential
  (a backoff of 100 ms and more) would delay the next target, which is the better retry. The
  last target is called as a call naming its credential would be, retries included: there is
  nothing else to move to.
- the route's `first_token_timeout` bounds every target but the last, for the same reason:
  ending the last one early could only turn a slow answer into none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog

from integration_api.errors import ServiceError
from integration_api.llm.retry import RetryPolicy
from integration_api.llm.timing import Deadline
from integration_api.principal import Tenant
from integration_api.routes import metrics
from integration_api.routes.attempts import name_route_in, note_attempt
from integration_api.routes.credential_providers import ProviderNotingCredentials
from integration_api.routes.model import Attempt, AttemptOutcome, Route, RouteReport, RouteTarget
from integration_api.routes.order import TargetOrder
from integration_api.routes.outcomes import MOVES_ON, SKIPPED, first_token_timeout, outcome_of
from integration_api.routes.usage import attempt_of, tenant_admitted
from integration_api.usage.ports import NO_BUDGETS, BudgetGuard

log = structlog.get_logger("integration_api.routes")

AnswerT = TypeVar("AnswerT")
# Makes one attempt with a target; the flag says whether it is the last one left.
AttemptCall = Callable[[RouteTarget, bool], Awaitable[AnswerT]]

# How the pipelines call every target of a route but the last: once, without a retry.
ONE_ATTEMPT = RetryPolicy(max_attempts=1)


@dataclass
class RoutedCall:
    """What one call through a route has tried so far."""

    route: Route
    operation: str
    tenant: Tenant
    credentials: ProviderNotingCredentials
    # The model the caller asked for, used where a target names none.
    requested_model: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    answered_by: int | None = None
    budgets: BudgetGuard = NO_BUDGETS

    def report(self) -> RouteReport:
        return RouteReport(self.route.id, self.answered_by, tuple(self.attempts))

    async def first_answer(self, attempt: AttemptCall[AnswerT], deadline: Deadline) -> AnswerT:
        """What the first target able to answer returned (a first part, or the whole answer).

        Raises:
            ServiceError: the error of the attempt that ended the call: one that does not
                move on, or the last target's.
        """
        tenant_admitted(self.budgets, self.tenant)
        order = TargetOrder(self.route)
        label = metrics.route_label(self.tenant, self.route.id)
        error: ServiceError | None = None
        for index, target in order:
            last = order.is_last()
            started = time.perf_counter()
            try:
                with attempt_of(self.route.id, index):
                    answer = await self._bounded(attempt(target, last), last)
            except ServiceError as failure:
                error = failure
                outcome = outcome_of(failure)
            else:
                self._note(index, target, "answered", started, label)
                self.answered_by = index
                return answer
            self._note(index, target, outcome, started, label, error)
            if outcome not in MOVES_ON or _spent(deadline) or last:
                break
            if outcome not in SKIPPED:
                order.called_and_failed()
            metrics.count_failover(label, index, self.operation)
            log.info(
                "route moved on",
                route_id=self.route.id,
                target=index,
                outcome=outcome,
                reason=error.reason,
            )
        assert error is not None, "a route has at least one target"
        raise self._ending(error)

    async def _bounded(self, answer: Awaitable[AnswerT], last: bool) -> AnswerT:
        seconds = self.route.first_token_timeout
        if seconds is None or last:
            return await answer
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await answer
        except TimeoutError:
            if not scope.expired():
                raise
            raise first_token_timeout(seconds) from None

    def _note(
        self,
        index: int,
        target: RouteTarget,
        outcome: AttemptOutcome,
        started: float,
        label: str,
        error: ServiceError | None = None,
    ) -> None:
        provider = self.credentials.provider_of(target.credential_id)
        if not provider and error is not None:
            provider = error.provider or ""
        note_attempt(
            self.attempts,
            label=label,
            operation=self.operation,
            index=index,
            target=target,
            outcome=outcome,
            started=started,
            provider=provider,
            requested_model=self.requested_model,
            error=error,
        )

    def _ending(self, error: ServiceError) -> ServiceError:
        """The error the call ends with, saying which route it took and how each target fared."""
        return name_route_in(error, self.route.id, self.attempts)


def _spent(deadline: Deadline) -> bool:
    remaining = deadline.remaining()
    return remaining is not None and remaining <= 0
