"""Two real service processes on one database and one Redis share every credential's limits and
breaker: a limit of 10 requests per minute is 10 across both, and a breaker opened by failures
seen in one process refuses calls in the other."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import grpc
import pytest
from integration_api_proto.integration.v1 import ChatRequest, CredentialLimits
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from tests.fakes.gated_provider import GatedProvider
from tests.fleet.processes import environment, launched, wait_serving
from tests.gate.support import store_limited
from tests.llm.support import Answer, collect, user_says
from tests.support.service import DEFAULT_ORGANIZATION, DEFAULT_PROJECT


class _Replica:
    """Enough of a running service for the helpers: a channel and tokens for its secret."""

    def __init__(self, channel: grpc.aio.Channel, secret: str) -> None:
        self._channel = channel
        self.secret = secret

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    def auth(self) -> tuple[tuple[str, str], ...]:
        token = mint_token(
            self.secret, organization_id=DEFAULT_ORGANIZATION, project_id=DEFAULT_PROJECT
        )
        return (("authorization", f"Bearer {token}"),)


@pytest.fixture
async def replicas(tmp_path: Path, empty_database_dsn: str) -> AsyncIterator[list[_Replica]]:
    secret = secrets.token_urlsafe(48)
    shared = {
        "SECRET": secret,
        "INTEGRATION_CRYPTO_KEY": generate_key(),
        "REDIS__HOST": "127.0.0.1",
        "REDIS__KEY_PREFIX": f"itest:{secrets.token_hex(4)}:",
        "CREDENTIAL_BREAKER_FAILURES": "3",
        "CREDENTIAL_BREAKER_OPEN_SECONDS": "30",
    }
    async with AsyncExitStack() as stack:
        found = []
        for index in range(2):
            env = environment(tmp_path / f"replica-{index}", empty_database_dsn, **shared)
            service = await stack.enter_async_context(
                launched(env, tmp_path / f"replica-{index}.log")
            )
            await wait_serving(service)
            channel = await stack.enter_async_context(grpc.aio.insecure_channel(service.address))
            found.append(_Replica(channel, secret))
        yield found


async def _chat(replica: _Replica, credential: str) -> Answer:
    request = ChatRequest(credential_id=credential, messages=user_says())
    return await collect(
        LlmServiceStub(replica.channel).chat(request, metadata=replica.auth(), timeout=20)
    )


async def test_ten_requests_per_minute_are_ten_across_both_processes(
    replicas: list[_Replica],
) -> None:
    first, second = replicas
    async with GatedProvider() as provider:
        credential = await store_limited(
            first, provider.base_url, CredentialLimits(requests_per_minute=10)
        )
        answers = await asyncio.gather(*(_chat(replica, credential) for replica in replicas * 10))
    codes = [answer.code() for answer in answers]
    assert codes.count(grpc.StatusCode.OK) == 10
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 10
    assert {a.reason() for a in answers if a.error is not None} == {"CREDENTIAL_RATE_LIMITED"}
    assert provider.requests == 10
    assert second is not None


async def test_a_breaker_opened_in_one_process_refuses_in_the_other(
    replicas: list[_Replica],
) -> None:
    first, second = replicas
    async with GatedProvider() as provider:
        credential = await store_limited(first, provider.base_url)
        provider.fail_with(503)
        failed = await _chat(first, credential)
        reached = provider.requests
        refused = await _chat(second, credential)
    assert failed.code() == grpc.StatusCode.UNAVAILABLE
    assert refused.code() == grpc.StatusCode.UNAVAILABLE
    assert refused.reason() == "CIRCUIT_OPEN"
    assert provider.requests == reached == 3
