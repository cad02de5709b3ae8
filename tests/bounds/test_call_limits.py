"""One tenant's slow streams cannot take the others' connections or slots.

The service under test allows 3 calls in flight per tenant and 4 connections per upstream host
(tests/bounds/conftest.py); the hostile upstream streams text slowly, so every call it serves
holds its slot and its connection until the answer bound ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from integration_api_proto.integration.v1 import ChatChunk, ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from integration_api.principal import Tenant
from integration_api.providers.transport_failures import CONNECTION_POOL_FULL
from integration_api.upstream.limits import TENANT_CALL_LIMIT
from tests.bounds.conftest import LIMITS, Upstreams, organization
from tests.fakes import hostile
from tests.llm.support import chat, user_says
from tests.support.service import DEFAULT_PROJECT, RunningService


async def request_for(upstreams: Upstreams, upstream: str, tenant: str) -> ChatRequest:
    credential_id = await upstreams.credential(upstream, tenant)
    return ChatRequest(credential_id=credential_id, messages=user_says())


@asynccontextmanager
async def slow_chats(
    llm: LlmServiceStub, service: RunningService, upstreams: Upstreams, tenant: str, count: int
) -> AsyncIterator[None]:
    """`count` chats of `tenant` to the hostile upstream, each past its first chunk."""
    calls: list[grpc.aio.UnaryStreamCall[ChatRequest, ChatChunk]] = []
    try:
        for _ in range(count):
            request = await request_for(upstreams, "hostile", tenant)
            call = llm.chat(request, metadata=service.auth(organization_id=tenant))
            calls.append(call)
            await call.read()
        yield
    finally:
        for call in calls:
            call.cancel()


async def test_a_tenant_past_its_call_limit_is_refused_while_another_tenants_chat_completes(
    llm: LlmServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.text_forever(0.05))
    greedy, other = organization(), organization()
    async with slow_chats(llm, service, upstreams, greedy, LIMITS.max_calls_per_tenant):
        refused = await chat(
            llm, service, await request_for(upstreams, "replay", greedy), organization_id=greedy
        )
        upstreams.replay.play("text.sse")
        served = await chat(
            llm, service, await request_for(upstreams, "replay", other), organization_id=other
        )

    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.reason() == TENANT_CALL_LIMIT
    assert refused.retry_delay_seconds() is not None
    assert served.code() == grpc.StatusCode.OK
    assert served.text


async def test_waiting_for_a_full_connection_pool_is_reported_as_such(
    llm: LlmServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.text_forever(0.05))
    first, second, waiting, elsewhere = (organization() for _ in range(4))
    # Two tenants together fill the hostile host's share of the pool (4 connections).
    async with (
        slow_chats(llm, service, upstreams, first, 3),
        slow_chats(llm, service, upstreams, second, 1),
    ):
        queued = await chat(
            llm, service, await request_for(upstreams, "hostile", waiting), organization_id=waiting
        )
        upstreams.replay.play("text.sse")
        other_host = await chat(
            llm,
            service,
            await request_for(upstreams, "replay", elsewhere),
            organization_id=elsewhere,
        )

    assert queued.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert queued.reason() == CONNECTION_POOL_FULL
    assert queued.error is not None
    assert "waiting for a connection" in (queued.error.details() or "")
    assert other_host.code() == grpc.StatusCode.OK


async def test_a_tenants_slots_are_given_back_when_its_calls_are_cancelled(
    llm: LlmServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.text_forever(0.05))
    tenant = organization()
    async with slow_chats(llm, service, upstreams, tenant, LIMITS.max_calls_per_tenant):
        pass
    assert await calls_in_flight_settle_to_zero(service, tenant)
    upstreams.replay.play("text.sse")
    answer = await chat(
        llm, service, await request_for(upstreams, "replay", tenant), organization_id=tenant
    )
    assert answer.code() == grpc.StatusCode.OK


async def calls_in_flight_settle_to_zero(service: RunningService, organization_id: str) -> bool:
    """Cancellation reaches the servicer a moment after the client's; wait up to 2 s for it."""
    runtime = service.app.runtime
    assert runtime is not None
    tenant = Tenant(organization_id, DEFAULT_PROJECT)
    for _ in range(200):
        if runtime.tenant_calls.in_flight(tenant) == 0:
            return True
        await asyncio.sleep(0.01)
    return False
