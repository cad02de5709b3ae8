"""A cluster in miniature: three service processes (two single ones, and a supervisor with two
workers) on one PostgreSQL and one Redis, a client spreading chat streams over them while one
is killed and another drained."""

from __future__ import annotations

import asyncio
import secrets
import signal
from contextlib import AsyncExitStack
from pathlib import Path

import grpc
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ChatChunk,
    ChatRequest,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    DisableCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from tests.fakes.replay import ReplayServer, Reply
from tests.fleet.processes import ServiceProcess, environment, launched, wait_serving
from tests.llm.support import user_says

STREAMS_PER_PROCESS = 3


async def _store(channel: grpc.aio.Channel, auth: tuple[tuple[str, str], ...], url: str) -> str:
    reply = await CredentialServiceStub(channel).create_credential(
        CreateCredentialRequest(
            provider="openai-compatible",
            name=f"local-{secrets.token_hex(3)}",
            secret=CredentialSecret(api_key=ApiKeySecret(key="")),
            config=CredentialConfig(base_url=url, default_model="replay"),
            skip_verification=True,
        ),
        metadata=auth,
    )
    assert reply.credential is not None
    return reply.credential.id


async def _chat_to_end(call: grpc.aio.UnaryStreamCall[ChatRequest, ChatChunk]) -> grpc.StatusCode:
    """Reads the stream to its end; the status it ended with."""
    try:
        while isinstance(await call.read(), ChatChunk):
            pass
    except grpc.aio.AioRpcError as error:
        return error.code()
    return await call.code()


async def _started_streams(
    channel: grpc.aio.Channel, request: ChatRequest, auth: tuple[tuple[str, str], ...]
) -> list[grpc.aio.UnaryStreamCall[ChatRequest, ChatChunk]]:
    calls = [
        LlmServiceStub(channel).chat(request, metadata=auth) for _ in range(STREAMS_PER_PROCESS)
    ]
    for call in calls:
        assert isinstance(await call.read(), ChatChunk)  # in flight: output has started
    return calls


async def test_a_killed_process_fails_its_callers_retryably_and_a_drained_one_finishes_them(
    tmp_path: Path, empty_database_dsn: str, redis_url: str, redis_prefix: str
) -> None:
    secret = secrets.token_urlsafe(48)
    shared = {
        "SECRET": secret,
        "INTEGRATION_CRYPTO_KEY": generate_key(),
        "REDIS__HOST": "127.0.0.1",
        "REDIS__PORT": redis_url.rsplit(":", 1)[1].split("/", 1)[0],
        "REDIS__KEY_PREFIX": redis_prefix,
        "SHUTDOWN_GRACE_SECONDS": "10",
    }
    token = mint_token(secret, organization_id="org-1", project_id="p-1")
    auth = (("authorization", f"Bearer {token}"),)
    async with ReplayServer("openai") as replay, AsyncExitStack() as stack:
        services: list[ServiceProcess] = []
        for name, args in (("killed", ()), ("kept", ()), ("drained", ("--workers", "2"))):
            env = environment(tmp_path / name, empty_database_dsn, **shared)
            services.append(
                await stack.enter_async_context(launched(env, tmp_path / f"{name}.log", *args))
            )
        await asyncio.gather(*(wait_serving(service) for service in services))
        killed, _kept, drained = services
        channels = [
            await stack.enter_async_context(grpc.aio.insecure_channel(service.address))
            for service in services
        ]

        # A credential disabled through one process is refused by every other at once.
        replay.play(Reply("text.sse"))
        doomed = await _store(channels[0], auth, replay.base_url)
        doomed_chat = ChatRequest(credential_id=doomed, messages=user_says())
        for channel in channels:  # every process has it cached now
            assert await _chat_to_end(LlmServiceStub(channel).chat(doomed_chat, metadata=auth)) == (
                grpc.StatusCode.OK
            )
        await CredentialServiceStub(channels[1]).disable_credential(
            DisableCredentialRequest(id=doomed), metadata=auth
        )
        for channel in channels:
            refused = await _chat_to_end(LlmServiceStub(channel).chat(doomed_chat, metadata=auth))
            assert refused == grpc.StatusCode.FAILED_PRECONDITION

        # Slow streams on every process; one process killed, one drained, mid-stream.
        replay.play(Reply("text.sse", event_delay=0.12))
        credential = await _store(channels[1], auth, replay.base_url)
        request = ChatRequest(credential_id=credential, messages=user_says())
        calls = [await _started_streams(channel, request, auth) for channel in channels]
        killed.process.send_signal(signal.SIGKILL)
        drained.process.send_signal(signal.SIGTERM)
        outcomes = [await asyncio.gather(*map(_chat_to_end, each)) for each in calls]
        assert await drained.wait_exit() == 0, drained.output()

    assert outcomes[0] == [grpc.StatusCode.UNAVAILABLE] * STREAMS_PER_PROCESS
    assert outcomes[1] == [grpc.StatusCode.OK] * STREAMS_PER_PROCESS
    assert outcomes[2] == [grpc.StatusCode.OK] * STREAMS_PER_PROCESS
    migrations = [entry for service in services for entry in service.events("migrations applied")]
    assert len(migrations) == 1
