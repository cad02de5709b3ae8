"""One running service with short keep-alives, a replay server per speech provider, and a
stored credential pointing at each."""

from __future__ import annotations

import math
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, SpeechServiceStub

from integration_api.speech.limits import SpeechLimits
from tests.fakes.speech_servers import DeepgramServer, ElevenLabsServer, SpeechServer
from tests.support.service import RunningService, running_service

KEEPALIVE_SECONDS = 0.3
KEYS = {"deepgram": "dg-key-0123456789abcdef", "elevenlabs": "sk_el-key-0123456789abcdef"}


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


@pytest.fixture(scope="package")
async def upstreams(service: RunningService) -> AsyncIterator[dict[str, SpeechUpstream]]:
    stub = CredentialServiceStub(service.channel)
    async with DeepgramServer() as deepgram, ElevenLabsServer() as elevenlabs:
        found: dict[str, SpeechUpstream] = {}
        for provider, server in (("deepgram", deepgram), ("elevenlabs", elevenlabs)):
            reply = await stub.create_credential(
                CreateCredentialRequest(
                    provider=provider,
                    name=f"{provider} speech",
                    secret=CredentialSecret(api_key=ApiKeySecret(key=KEYS[provider])),
                    config=CredentialConfig(base_url=server.base_url),
                    skip_verification=True,
                ),
                metadata=service.auth(),
            )
            assert reply.credential is not None
            found[provider] = SpeechUpstream(provider, server, reply.credential.id, KEYS[provider])
        yield found


@pytest.fixture
def speech(service: RunningService) -> SpeechServiceStub:
    return SpeechServiceStub(service.channel)


@pytest.fixture(autouse=True)
def fresh_servers(request: pytest.FixtureRequest) -> None:
    if "upstreams" in request.fixturenames:
        for upstream in request.getfixturevalue("upstreams").values():
            upstream.server.sessions.clear()
            upstream.server.behaviour = "normal"
            upstream.server.idle_close_seconds = 0.0


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
