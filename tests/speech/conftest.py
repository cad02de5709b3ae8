"""One running service with short keep-alives, a replay server per speech provider, and a
stored credential pointing at each."""

from __future__ import annotations

import asyncio
import math
import secrets
import struct
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, SpeechServiceStub

from integration_api.config.speech_limits import SpeechLimits
from tests.fakes.cartesia_speech_server import CartesiaServer
from tests.fakes.openai_speech_server import OpenAISpeechServer
from tests.fakes.speech_servers import (
    AssemblyAIServer,
    DeepgramServer,
    ElevenLabsServer,
    SpeechServer,
)
from tests.support.service import RunningService, running_service

KEEPALIVE_SECONDS = 0.3
KEYS = {
    "deepgram": "dg-key-0123456789abcdef",
    "elevenlabs": "sk_el-key-0123456789abcdef",
    "assemblyai": "aai-key-0123456789abcdef",
    "openai": "sk-openai-key-0123456789abcdef",
    "cartesia": "sk_car_key-0123456789abcdef",
}
SERVERS: dict[str, Callable[[], SpeechServer]] = {
    "deepgram": DeepgramServer,
    "elevenlabs": ElevenLabsServer,
    "assemblyai": AssemblyAIServer,
    "openai": OpenAISpeechServer,
    "cartesia": CartesiaServer,
}


@dataclass
class SpeechUpstream:
    provider: str
    server: SpeechServer
    credential_id: str
    key: str


@pytest.fixture(scope="package")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    limits = SpeechLimits(keepalive_seconds=KEEPALIVE_SECONDS, max_audio_bytes=2_000_000)
    async with running_service(package_database_dsn, speech=limits) as running:
        yield running


async def register(
    service: RunningService,
    servers: dict[str, SpeechServer],
    keys: dict[str, str],
    host: Callable[[str, SpeechServer], str] = lambda _provider, server: server.base_url,
) -> dict[str, SpeechUpstream]:
    """A stored credential per provider, pointing at its replay server (at `host`'s URL)."""
    stub = CredentialServiceStub(service.channel)
    found: dict[str, SpeechUpstream] = {}
    for provider, server in servers.items():
        reply = await stub.create_credential(
            CreateCredentialRequest(
                provider=provider,
                name=f"{provider} speech {secrets.token_hex(4)}",
                secret=CredentialSecret(api_key=ApiKeySecret(key=keys[provider])),
                config=CredentialConfig(base_url=host(provider, server)),
                skip_verification=True,
            ),
            metadata=service.auth(),
        )
        assert reply.credential is not None
        found[provider] = SpeechUpstream(provider, server, reply.credential.id, keys[provider])
    return found


@asynccontextmanager
async def replay_servers() -> AsyncIterator[dict[str, SpeechServer]]:
    """One running replay server per speech provider."""
    async with AsyncExitStack() as stack:
        yield {
            provider: await stack.enter_async_context(server())
            for provider, server in SERVERS.items()
        }


@pytest.fixture(scope="package")
async def upstreams(service: RunningService) -> AsyncIterator[dict[str, SpeechUpstream]]:
    async with replay_servers() as servers:
        yield await register(service, servers, KEYS)


@pytest.fixture
def speech(service: RunningService) -> SpeechServiceStub:
    return SpeechServiceStub(service.channel)


@pytest.fixture(autouse=True)
def fresh_servers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts on clean replay servers, and fails if the service broke a provider's
    protocol along the way (a message for a context the provider had finished)."""
    servers = [
        upstream.server
        for name in ("upstreams", "capped_upstreams", "bounded_upstreams")
        if name in request.fixturenames
        for upstream in request.getfixturevalue(name).values()
    ]
    for server in servers:
        server.sessions.clear()
        server.behaviour = "normal"
        server.idle_close_seconds = 0.0
        server.upgrade_refusal = None
        server.error_frame = None
        server.error_close = None
    yield
    broken = [error for server in servers for s in server.sessions for error in s.protocol_errors]
    assert not broken, f"the service broke a provider's protocol: {broken}"


def tone(seconds: float, rate: int = 16000, frame_ms: int = 20) -> list[bytes]:
    """A 440 Hz tone as linear16 frames of `frame_ms` each."""
    samples = [
        int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate))
    ]
    per_frame = rate * frame_ms // 1000
    return [
        struct.pack(f"<{len(chunk)}h", *chunk)
        for chunk in (samples[i : i + per_frame] for i in range(0, len(samples), per_frame))
    ]


def _lost_write_race(error: grpc.aio.AioRpcError) -> bool:
    """The client's own INTERNAL for a write the service had already ended the call before."""
    return error.code() == grpc.StatusCode.INTERNAL and "execute_batch" in (
        error.debug_error_string() or ""
    )


async def exchange_ending_early(
    open_call: Callable[[], Any], requests: Callable[[], AsyncIterator[Any]], attempts: int = 3
) -> list[Any]:
    """`exchange` for a call the service ends while the caller may still be writing.

    grpc-python's client marks a call INTERNAL when a write races the service's status (its
    own error, not the service's answer); such a call is made again, fresh, a few times.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await exchange(open_call(), requests())
        except grpc.aio.AioRpcError as error:
            if attempt == attempts or not _lost_write_race(error):
                raise
    raise AssertionError("unreachable")


async def exchange(call: Any, requests: AsyncIterator[Any]) -> list[Any]:
    """Every answer of a bidirectional `call` fed `requests`, or its status as AioRpcError.

    Requests go through the write API while answers are read. A write the service no longer
    takes (it already ended the call) fails on the client with a local INTERNAL; the writing
    stops there and the read reports the status the service sent, where a request iterator
    handed to the stub would end the call with that local INTERNAL instead.
    """

    async def write_all() -> None:
        with suppress(grpc.aio.AioRpcError):
            async for request in requests:
                if call.done():
                    return
                await call.write(request)
            await call.done_writing()

    writer = asyncio.create_task(write_all())
    try:
        responses = []
        while (response := await call.read()) is not grpc.aio.EOF:
            responses.append(response)
        await writer
        return responses
    finally:
        writer.cancel()
        with suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            await writer
