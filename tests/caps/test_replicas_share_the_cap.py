"""Two service instances sharing Redis (two replicas, or two workers) admit one tenant's cap
between them, not the cap each: before, each process counted only its own calls."""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import grpc
import pytest
from integration_api_proto.integration.v1 import ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from integration_api.config import RedisSettings
from integration_api.config.speech_limits import SpeechLimits
from integration_api.errors import ResourceExhausted
from integration_api.principal import Tenant
from integration_api.upstream.limits import TENANT_CALL_LIMIT, UpstreamLimits
from integration_api.vault import generate_key
from tests.fakes import hostile
from tests.fakes.hostile import HostileUpstream
from tests.fakes.replay import ReplayServer
from tests.llm.support import chat, user_says
from tests.llm.upstreams import store_credential
from tests.support.service import DEFAULT_PROJECT, RunningService, running_service

CAP = 3
ORGANIZATION = "org-fleet"


@pytest.fixture
async def replicas(
    package_database_dsn: str, redis_prefix: str
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    shared = {
        "secret": secrets.token_urlsafe(48),
        "crypto_key": generate_key(),
        "upstream": UpstreamLimits(max_calls_per_tenant=CAP, max_answer_seconds=30.0),
        "redis": RedisSettings(host="127.0.0.1", key_prefix=redis_prefix),
        "speech": SpeechLimits(max_sessions_per_tenant=1),
    }
    async with (
        running_service(package_database_dsn, **shared) as first,
        running_service(package_database_dsn, **shared) as second,
    ):
        yield first, second


async def test_two_replicas_sharing_redis_together_admit_exactly_one_tenants_cap(
    replicas: tuple[RunningService, RunningService],
) -> None:
    first, second = replicas
    async with HostileUpstream() as upstream, AsyncExitStack() as calls:
        upstream.answer_with(hostile.text_forever(0.05))
        credential = await store_credential(
            first, "openai-compatible", upstream.base_url, "", organization_id=ORGANIZATION
        )
        request = ChatRequest(credential_id=credential, messages=user_says())
        for service in (first, second, first):
            call = LlmServiceStub(service.channel).chat(
                request, metadata=service.auth(organization_id=ORGANIZATION)
            )
            calls.callback(call.cancel)
            await call.read()  # streaming: it holds its slot
        refused = [
            await chat(
                LlmServiceStub(service.channel), service, request, organization_id=ORGANIZATION
            )
            for service in (first, second)
        ]
    for answer in refused:
        assert answer.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert answer.reason() == TENANT_CALL_LIMIT
    assert await leases_settle_to_zero(first, second)


async def leases_settle_to_zero(*services: RunningService) -> bool:
    """Cancelled calls give their leases back (cancellation reaches the servicer a moment later)."""
    for _ in range(200):
        runtimes = [service.app.runtime for service in services]
        if all(runtime and runtime.leases and runtime.leases.held() == 0 for runtime in runtimes):
            return True
        await asyncio.sleep(0.01)
    return False


async def test_two_replicas_sharing_redis_count_one_tenants_speech_sessions_together(
    replicas: tuple[RunningService, RunningService],
) -> None:
    first, second = (service.app.runtime for service in replicas)
    assert first is not None and second is not None
    tenant = Tenant(ORGANIZATION, DEFAULT_PROJECT)
    async with first.speech_sessions.slot(tenant):
        with pytest.raises(ResourceExhausted):
            async with second.speech_sessions.slot(tenant):
                pass
    async with second.speech_sessions.slot(tenant):
        pass


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_with_redis_down_a_worker_admits_its_share_and_chats_still_complete(
    package_database_dsn: str,
) -> None:
    dead_redis = RedisSettings(host="127.0.0.1", port=_unused_port())
    limits = UpstreamLimits(max_calls_per_tenant=4, max_answer_seconds=30.0)
    async with (
        running_service(
            package_database_dsn, upstream=limits, redis=dead_redis, workers=2
        ) as service,
        HostileUpstream() as slow,
        ReplayServer("openai-compatible") as replay,
    ):
        llm = LlmServiceStub(service.channel)
        slow.answer_with(hostile.text_forever(0.05))
        slow_credential = await store_credential(service, "openai-compatible", slow.base_url, "")
        quick_credential = await store_credential(service, "openai-compatible", replay.base_url, "")
        async with AsyncExitStack() as calls:
            for _ in range(2):  # the share of one of two workers: 4 / 2
                request = ChatRequest(credential_id=slow_credential, messages=user_says())
                call = llm.chat(request, metadata=service.auth())
                calls.callback(call.cancel)
                await call.read()
            quick = ChatRequest(credential_id=quick_credential, messages=user_says())
            refused = await chat(llm, service, quick)
        replay.play("text.sse")
        served = await chat(llm, service, quick)
    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.reason() == TENANT_CALL_LIMIT
    assert served.code() == grpc.StatusCode.OK
    assert served.text
