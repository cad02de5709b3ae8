"""The service's own bounds on a call, seen through a route: a provider that stays silent past
the stream's bound before its first content is left for the next target, and the tenant's own
cap on calls in flight ends a routed call as it ends a direct one, without trying every target."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
from integration_api_proto.integration.v1 import ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from integration_api.upstream.limits import DEFAULT_LIMITS, TENANT_CALL_LIMIT
from tests.credentials.helpers import error_info
from tests.failover.flaky_provider import FlakyProvider
from tests.failover.support import (
    chat_through,
    create_route,
    failed_with,
    from_one_target,
    outcomes,
    report_of,
    store_key,
)
from tests.llm.support import collect, user_says
from tests.support.service import RunningService, running_service

SHORT_GAP = replace(DEFAULT_LIMITS, max_event_gap_seconds=0.4)
ONE_CALL = replace(DEFAULT_LIMITS, max_calls_per_tenant=1)


@pytest.fixture
async def short_gap_service(empty_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(empty_database_dsn, upstream=SHORT_GAP) as running:
        yield running


@pytest.fixture
async def one_call_service(empty_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(empty_database_dsn, upstream=ONE_CALL) as running:
        yield running


async def test_a_provider_silent_past_the_event_gap_moves_the_call_on(
    short_gap_service: RunningService,
) -> None:
    async with FlakyProvider("alpha") as alpha, FlakyProvider("bravo") as bravo:
        first = await store_key(short_gap_service, alpha)
        second = await store_key(short_gap_service, bravo)
        # No first_token_timeout of the route's own: only the stream's bound ends the wait.
        route = await create_route(short_gap_service, first.credential_id, second.credential_id)
        alpha.behave("slow_first_token", delay_seconds=3.0)
        answer = await chat_through(short_gap_service, route)
        assert from_one_target(answer, first, second) is second
        assert outcomes(report_of(answer)) == [(0, "UNREACHABLE"), (1, "ANSWERED")]


async def test_the_tenants_call_cap_ends_a_routed_call_at_once(
    one_call_service: RunningService,
) -> None:
    async with FlakyProvider("alpha") as alpha, FlakyProvider("bravo") as bravo:
        first = await store_key(one_call_service, alpha)
        second = await store_key(one_call_service, bravo)
        route = await create_route(one_call_service, first.credential_id, second.credential_id)
        # One direct call holds the tenant's only slot while the routed call is made.
        bravo.behave("slow_first_token", delay_seconds=1.0)
        stub = LlmServiceStub(one_call_service.channel)
        holding = asyncio.create_task(
            collect(
                stub.chat(
                    ChatRequest(credential_id=second.credential_id, messages=user_says()),
                    metadata=one_call_service.auth(),
                    timeout=5,
                )
            )
        )
        await asyncio.sleep(0.3)
        assert bravo.chat_requests == 1
        answer = await chat_through(one_call_service, route)
        failed_with(answer, grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert answer.error is not None
        assert error_info(answer.error).reason == TENANT_CALL_LIMIT
        assert answer.metadata()["route_attempts"] == "0:failed"
        assert alpha.chat_requests == 0
        assert (await holding).error is None
        assert bravo.chat_requests == 1
