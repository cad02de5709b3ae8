"""Embed and Rerank through a route: the first target to answer gives the whole answer.

Both answer once, so an attempt is over before anything reaches the caller and any failure that
moves on may do so; the route's `first_token_timeout` bounds the whole answer of every target
but the last (see `routes.failover`). Vectors and rankings always come from one target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable
from typing import Generic, TypeVar

from integration_api.embeddings.contract import (
    EmbedRequest,
    EmbedResult,
    RerankAnswer,
    RerankRequest,
)
from integration_api.embeddings.pipeline import EmbeddingService
from integration_api.embeddings.rerank import RerankService
from integration_api.llm.timing import Deadline
from integration_api.principal import Tenant
from integration_api.routes.credential_providers import ProviderNotingCredentials
from integration_api.routes.failover import AttemptCall, RoutedCall
from integration_api.routes.model import RouteReport, RouteTarget
from integration_api.routes.ports import RouteSource
from integration_api.usage.ports import NO_BUDGETS, BudgetGuard

ClientT = TypeVar("ClientT")
AnswerT = TypeVar("AnswerT")


@dataclasses.dataclass(frozen=True)
class Routed(Generic[AnswerT]):
    """A routed call's answer and the route's report."""

    answer: AnswerT
    route: RouteReport


@dataclasses.dataclass(frozen=True)
class RoutedEmbeddingPipelines(Generic[ClientT]):
    """Each pipeline twice over the route's credentials: calling once, and with retries."""

    embed_once: EmbeddingService[ClientT]
    embed_retrying: EmbeddingService[ClientT]
    rerank_once: RerankService[ClientT]
    rerank_retrying: RerankService[ClientT]
    credentials: ProviderNotingCredentials


class RoutedEmbeddings(Generic[ClientT]):
    """Embeds texts and ranks documents through stored routes."""

    def __init__(
        self,
        routes: RouteSource,
        pipelines: RoutedEmbeddingPipelines[ClientT],
        *,
        budgets: BudgetGuard = NO_BUDGETS,
    ) -> None:
        self._routes = routes
        self._pipelines = pipelines
        self._budgets = budgets

    async def embed(
        self, tenant: Tenant, route_id: str, request: EmbedRequest, deadline: Deadline
    ) -> Routed[EmbedResult]:
        def attempt(target: RouteTarget, last: bool) -> Awaitable[EmbedResult]:
            pipelines = self._pipelines
            pipeline = pipelines.embed_retrying if last else pipelines.embed_once
            return pipeline.embed(tenant, _for_target(request, target), deadline)

        return await self._first_answer(tenant, route_id, "embed", request.model, attempt, deadline)

    async def rerank(
        self, tenant: Tenant, route_id: str, request: RerankRequest, deadline: Deadline
    ) -> Routed[RerankAnswer]:
        def attempt(target: RouteTarget, last: bool) -> Awaitable[RerankAnswer]:
            pipelines = self._pipelines
            pipeline = pipelines.rerank_retrying if last else pipelines.rerank_once
            return pipeline.rerank(tenant, _for_target(request, target), deadline)

        return await self._first_answer(
            tenant, route_id, "rerank", request.model, attempt, deadline
        )

    async def _first_answer(
        self,
        tenant: Tenant,
        route_id: str,
        operation: str,
        model: str,
        attempt: AttemptCall[AnswerT],
        deadline: Deadline,
    ) -> Routed[AnswerT]:
        route = await self._routes.route_for_use(tenant, route_id)
        call = RoutedCall(
            route, operation, tenant, self._pipelines.credentials, model, budgets=self._budgets
        )
        answer = await call.first_answer(attempt, deadline)
        return Routed(answer, call.report())


RequestT = TypeVar("RequestT", EmbedRequest, RerankRequest)


def _for_target(request: RequestT, target: RouteTarget) -> RequestT:
    return dataclasses.replace(
        request, credential_id=target.credential_id, model=target.model or request.model
    )
