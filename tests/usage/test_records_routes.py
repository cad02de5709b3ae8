"""Calls through a route: each attempt is its own usage record, attributed with the route and
its target's index, and the attribution never reaches another call. A credential whose budget
is spent is skipped (the route moves on); a tenant whose budget is spent is refused at once,
before any target, with BUDGET_EXCEEDED."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from integration_api_proto.integration.v1 import ChatRequest, EmbedRequest
from integration_api_proto.integration.v1.grpc_aio import (
    EmbeddingServiceStub,
    LlmServiceStub,
    SpeechServiceStub,
)

from integration_api.usage.record import CHAT, EMBED, ROUTE_ATTEMPT, SYNTHESIZE, RouteAttribution
from tests.failover.flaky_provider import FlakyProvider
from tests.failover.support import (
    MODEL,
    Target,
    chat_through,
    create_route,
    outcomes,
    report_of,
    store_key,
)
from tests.llm.support import chat, user_says
from tests.speech.test_routes import Upstreams, synthesize
from tests.support.service import RunningService
from tests.support.usage import DEFAULT_TENANT, CapturingLedger, RefusingBudgets
from tests.usage.records_support import (
    budgets,
    fresh_usage,
    ledger,
    no_record,
    one_record,
    refused_by_budget,
    secrets_absent,
    service,
)

__all__ = ["budgets", "fresh_usage", "ledger", "service"]


@pytest.fixture
async def first(service: RunningService) -> AsyncIterator[Target]:
    async with FlakyProvider("alpha") as provider:
        yield await store_key(service, provider)


@pytest.fixture
async def second(service: RunningService) -> AsyncIterator[Target]:
    async with FlakyProvider("bravo") as provider:
        yield await store_key(service, provider)


async def test_each_attempt_of_a_routed_chat_is_a_record_of_its_target(
    service: RunningService, ledger: CapturingLedger, first: Target, second: Target
) -> None:
    route_id = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("server_error")
    answer = await chat_through(service, route_id)
    assert outcomes(report_of(answer)) == [(0, "PROVIDER_ERROR"), (1, "ANSWERED")]
    failed, answered = await ledger.settled(2)

    assert failed.route == RouteAttribution(route_id, 0)
    assert (failed.operation, failed.credential_id, failed.outcome) == (
        CHAT,
        first.credential_id,
        "unavailable",
    )
    assert failed.input_tokens is None
    assert answered.route == RouteAttribution(route_id, 1)
    assert (answered.credential_id, answered.outcome, answered.model) == (
        second.credential_id,
        "ok",
        MODEL,
    )
    assert (answered.input_tokens, answered.output_tokens) == (5, 4)
    secrets_absent(ledger.records, first.key, second.key)


async def test_the_route_attribution_never_reaches_the_next_call(
    service: RunningService, ledger: CapturingLedger, first: Target, second: Target
) -> None:
    route_id = await create_route(service, first.credential_id, second.credential_id)
    await chat_through(service, route_id)
    direct = ChatRequest(credential_id=second.credential_id, messages=user_says())
    assert (await chat(LlmServiceStub(service.channel), service, direct)).error is None
    routed, named = await ledger.settled(2)

    assert routed.route == RouteAttribution(route_id, 0)
    assert named.route is None
    assert ROUTE_ATTEMPT.get() is None


async def test_a_target_whose_credential_budget_is_spent_is_skipped(
    service: RunningService,
    ledger: CapturingLedger,
    budgets: RefusingBudgets,
    first: Target,
    second: Target,
) -> None:
    route_id = await create_route(service, first.credential_id, second.credential_id)
    budgets.spent_credentials.add(first.credential_id)
    answer = await chat_through(service, route_id)
    report = report_of(answer)
    record = await one_record(ledger)

    assert outcomes(report) == [(0, "SKIPPED_UNAVAILABLE"), (1, "ANSWERED")]
    assert report.attempts[0].reason == "BUDGET_EXCEEDED"
    assert first.provider.chat_requests == 0
    assert record.route == RouteAttribution(route_id, 1)


async def test_a_tenant_whose_budget_is_spent_is_refused_before_any_target(
    service: RunningService,
    ledger: CapturingLedger,
    budgets: RefusingBudgets,
    first: Target,
    second: Target,
) -> None:
    route_id = await create_route(service, first.credential_id, second.credential_id)
    budgets.spent_tenants.add(DEFAULT_TENANT)
    answer = await chat_through(service, route_id)

    refused_by_budget(answer.error)
    assert first.provider.chat_requests == second.provider.chat_requests == 0
    assert budgets.asked == [(DEFAULT_TENANT, "")]
    await no_record(ledger)


async def test_each_attempt_of_a_routed_embedding_is_a_record(
    service: RunningService, ledger: CapturingLedger, first: Target, second: Target
) -> None:
    route_id = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("server_error")
    response = await EmbeddingServiceStub(service.channel).embed(
        EmbedRequest(route_id=route_id, model="embed-flaky", inputs=["a", "b"]),
        metadata=service.auth(),
        timeout=10,
    )
    assert response.route is not None
    failed, answered = await ledger.settled(2)

    assert [(r.operation, r.route, r.outcome) for r in (failed, answered)] == [
        (EMBED, RouteAttribution(route_id, 0), "unavailable"),
        (EMBED, RouteAttribution(route_id, 1), "ok"),
    ]
    assert answered.input_tokens == 2


@pytest.fixture
async def speech_targets(service: RunningService) -> AsyncIterator[Upstreams]:
    async with AsyncExitStack() as stack:
        found = Upstreams(service)
        await found.start(stack)
        yield found


async def test_each_attempt_of_a_routed_synthesis_is_a_record(
    service: RunningService, ledger: CapturingLedger, speech_targets: Upstreams
) -> None:
    route_id = await speech_targets.two_deepgrams()
    speech_targets.first.behaviour = "overloaded"
    responses = await synthesize(SpeechServiceStub(service.channel), service, route_id)
    assert responses[-1].done is not None
    failed, answered = await ledger.settled(2)

    assert [(r.operation, r.route, r.credential_id) for r in (failed, answered)] == [
        (SYNTHESIZE, RouteAttribution(route_id, 0), speech_targets.credentials["first"]),
        (SYNTHESIZE, RouteAttribution(route_id, 1), speech_targets.credentials["second"]),
    ]
    assert (failed.outcome, answered.outcome) == ("unavailable", "ok")
    assert failed.characters == answered.characters == len("Hello there.")
    assert answered.audio_seconds_out is not None and answered.audio_seconds_out > 0
