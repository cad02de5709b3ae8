"""Two real service processes on one database, SIGTERM while their chat calls still stream:
every call that ended has its usage record, and none is written twice."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import grpc
from aiohttp import web
from integration_api_proto.integration.v1 import ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from tests.fakes.server import FakeServer
from tests.fleet.processes import ServiceProcess, environment, launched, wait_serving
from tests.gate.support import Metadata, store_limited
from tests.llm.support import Answer, collect, user_says
from tests.support.service import DEFAULT_ORGANIZATION, DEFAULT_PROJECT

CALLS = 40
# How long each answer takes after its first part: the SIGTERM lands inside it.
ANSWER_SECONDS = 1.5


class _SlowProvider:
    """An OpenAI-compatible chat server whose answers take a while, counting requests."""

    def __init__(self) -> None:
        self.fake = FakeServer()
        self.fake.route("POST", "/v1/chat/completions", self._chat)
        self.started = 0

    @property
    def base_url(self) -> str:
        return self.fake.url + "/v1"

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.started += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(
            _sse({"model": "m", "choices": [{"index": 0, "delta": {"content": "hi"}}]})
        )
        await asyncio.sleep(ANSWER_SECONDS)
        done = {"index": 0, "delta": {}, "finish_reason": "stop"}
        await response.write(_sse({"model": "m", "choices": [done]}))
        usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        await response.write(_sse({"model": "m", "choices": [], "usage": usage}))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _sse(body: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class _Replica:
    def __init__(self, service: ServiceProcess, channel: grpc.aio.Channel, secret: str) -> None:
        self.service = service
        self._channel = channel
        self._secret = secret

    @property
    def channel(self) -> grpc.aio.Channel:
        return self._channel

    def auth(self) -> Metadata:
        token = mint_token(
            self._secret, organization_id=DEFAULT_ORGANIZATION, project_id=DEFAULT_PROJECT
        )
        return (("authorization", f"Bearer {token}"),)


async def _replicas(stack: AsyncExitStack, tmp_path: Path, dsn: str) -> AsyncIterator[_Replica]:
    secret = secrets.token_urlsafe(48)
    shared = {
        "SECRET": secret,
        "INTEGRATION_CRYPTO_KEY": generate_key(),
        # Nothing is written before the drain: the drain alone must write every record.
        "USAGE_FLUSH_INTERVAL_SECONDS": "600",
    }
    for index in range(2):
        env = environment(tmp_path / f"replica-{index}", dsn, **shared)
        service = await stack.enter_async_context(launched(env, tmp_path / f"replica-{index}.log"))
        await wait_serving(service)
        channel = await stack.enter_async_context(grpc.aio.insecure_channel(service.address))
        yield _Replica(service, channel, secret)


async def test_two_processes_and_a_sigterm_lose_no_usage_record(
    tmp_path: Path, empty_database_dsn: str
) -> None:
    provider = _SlowProvider()
    async with AsyncExitStack() as stack:
        await provider.fake.start()
        stack.push_async_callback(provider.fake.stop)
        replicas = [replica async for replica in _replicas(stack, tmp_path, empty_database_dsn)]
        credential = await store_limited(replicas[0], provider.base_url)

        async def chat(replica: _Replica) -> Answer:
            request = ChatRequest(credential_id=credential, messages=user_says())
            stub = LlmServiceStub(replica.channel)
            return await collect(stub.chat(request, metadata=replica.auth(), timeout=30))

        calls = [asyncio.create_task(chat(replica)) for replica in replicas * (CALLS // 2)]
        while provider.started < CALLS:  # noqa: ASYNC110 - the fake counts, nothing to await
            await asyncio.sleep(0.02)
        for replica in replicas:
            replica.service.process.send_signal(signal.SIGTERM)
        answers = await asyncio.gather(*calls)
        codes = [await replica.service.wait_exit() for replica in replicas]

    assert codes == [0, 0]
    assert [answer.error for answer in answers] == [None] * CALLS
    for replica in replicas:
        assert replica.service.events("usage records not written before shutdown") == []
    connection = await asyncpg.connect(empty_database_dsn)
    try:
        records = await connection.fetch(
            "SELECT outcome, input_tokens, output_tokens, credential_id FROM usage_records"
        )
        hourly = await connection.fetchval("SELECT sum(calls) FROM usage_hourly")
    finally:
        await connection.close()
    assert len(records) == CALLS
    assert {(r["outcome"], r["input_tokens"], r["output_tokens"]) for r in records} == {
        ("ok", 7, 3)
    }
    assert {r["credential_id"] for r in records} == {credential}
    assert hourly == CALLS
