"""A canary key through every speech path, succeeding and failing on each error channel, never
appears outside the provider's handshake headers: not in logs (debug included), status
messages, details or trailers, metrics, or any URL the provider saw.

The replay servers are addressed by the providers' own host names (resolved to loopback, as a
DNS stand-in), so their error text is quoted after sanitizing, and they quote the key in full.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator

import grpc
import httpx
import pytest
import structlog
from integration_api_proto.integration.v1 import SynthesizeRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from integration_api.config import Settings
from integration_api.config.speech_limits import SpeechLimits
from integration_api.observability.logging import configure_logging
from integration_api.providers.egress import EgressPolicy
from integration_api.providers.registry import PROVIDER_HOSTS
from integration_api.upstream.allow_list import parse_allow_list
from tests.speech.conftest import (
    SERVERS,
    SpeechUpstream,
    exchange_ending_early,
    register,
    replay_servers,
)
from tests.speech.test_conformance import audio_stream, synthesis_config, text_stream
from tests.support.egress import at_host, resolve_provider_hosts_to_loopback
from tests.support.service import RunningService, running_service

# (provider, rpc, behaviour): every path and every error channel of each provider.
PATHS = [
    ("deepgram", "transcribe", "normal"),
    ("deepgram", "transcribe", "undecodable"),  # close code with a reason
    ("deepgram", "transcribe", "unauthorized"),  # refused upgrade with a body
    ("deepgram", "transcribe", "drop"),  # connection gone
    ("deepgram", "synthesize", "normal"),
    ("deepgram", "synthesize_stream", "normal"),
    ("elevenlabs", "transcribe", "normal"),
    ("elevenlabs", "transcribe", "quota_frame"),  # error frame, then a close with a reason
    ("elevenlabs", "synthesize", "normal"),
    ("elevenlabs", "synthesize", "quota_401"),  # HTTP error body
    ("elevenlabs", "synthesize_stream", "normal"),
    ("elevenlabs", "synthesize_stream", "input_timeout"),  # error frame on the TTS socket
    ("assemblyai", "transcribe", "normal"),
    ("assemblyai", "transcribe", "error_frame"),  # error frame, then a close with its code
    ("openai", "transcribe", "normal"),
    ("openai", "transcribe", "stream_error"),  # error event inside a 200 stream
    ("openai", "transcribe", "unauthorized"),  # HTTP error body
    ("openai", "synthesize", "normal"),
    ("openai", "synthesize", "unauthorized"),
    ("cartesia", "transcribe", "normal"),
    ("cartesia", "transcribe", "error_frame"),  # error frame, then a normal close
    ("cartesia", "synthesize", "normal"),
    ("cartesia", "synthesize", "unauthorized"),
    ("cartesia", "synthesize_stream", "normal"),
    ("cartesia", "synthesize_stream", "error_frame"),  # error frame on the socket
]


@pytest.fixture
def debug_logging() -> Iterator[None]:
    configure_logging("debug", "json")
    yield
    structlog.reset_defaults()
    configure_logging("info", "console")


@pytest.fixture
def provider_names_reach_the_replay_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    def policy(cls: type[EgressPolicy], settings: Settings) -> EgressPolicy:
        allow = parse_allow_list(settings.egress_allow)
        return cls(allow=allow, resolve=resolve_provider_hosts_to_loopback)

    monkeypatch.setattr(EgressPolicy, "from_settings", classmethod(policy))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _own_host(provider: str, server_url: str) -> str:
    return at_host(server_url, PROVIDER_HOSTS[provider][0])


Call = Callable[[SpeechUpstream], Awaitable[None]]


def _calls(speech: SpeechServiceStub, service: RunningService) -> dict[str, Call]:
    auth = service.auth()

    async def transcribe(upstream: SpeechUpstream) -> None:
        await exchange_ending_early(
            lambda: speech.transcribe(metadata=auth), lambda: audio_stream(upstream)
        )

    async def synthesize(upstream: SpeechUpstream) -> None:
        request = SynthesizeRequest(config=synthesis_config(upstream), text="Hello there.")
        [r async for r in speech.synthesize(request, metadata=auth)]

    async def synthesize_stream(upstream: SpeechUpstream) -> None:
        pause = 0.5 if upstream.server.idle_close_seconds else 0.0
        await exchange_ending_early(
            lambda: speech.synthesize_stream(metadata=auth),
            lambda: text_stream(upstream, pause=pause),
        )

    return {
        "transcribe": transcribe,
        "synthesize": synthesize,
        "synthesize_stream": synthesize_stream,
    }


def _status_blobs(error: grpc.aio.AioRpcError) -> list[bytes]:
    blobs = [(error.details() or "").encode()]
    for _key, value in error.trailing_metadata() or ():
        blobs.append(value if isinstance(value, bytes) else value.encode())
    return blobs


@pytest.mark.usefixtures("debug_logging", "provider_names_reach_the_replay_servers")
async def test_a_canary_key_never_leaves_the_provider_handshake(
    package_database_dsn: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    keys = {p: f"{p}-CANARY{secrets.token_hex(16)}" for p in SERVERS}
    metrics_port = _free_port()
    statuses: list[bytes] = []
    limits = SpeechLimits(keepalive_seconds=0.3)
    async with (
        running_service(package_database_dsn, speech=limits, metrics_port=metrics_port) as svc,
        replay_servers() as servers,
    ):
        upstreams = await register(svc, servers, keys, lambda p, s: _own_host(p, s.base_url))
        calls = _calls(SpeechServiceStub(svc.channel), svc)
        for provider, rpc, behaviour in PATHS:
            upstream = upstreams[provider]
            upstream.server.behaviour = behaviour
            upstream.server.idle_close_seconds = 0.05 if behaviour == "input_timeout" else 0.0
            try:
                await calls[rpc](upstream)
            except grpc.aio.AioRpcError as error:
                assert behaviour != "normal", f"{provider} {rpc} failed: {error.code()}"
                statuses.extend(_status_blobs(error))
            else:
                assert behaviour == "normal", f"{provider} {rpc} {behaviour} ended OK"
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        seen = [s for server in servers.values() for s in server.sessions]
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert any(b"Quota exceeded for" in blob for blob in statuses), "provider text is quoted"
    assert "SpeechService/Transcribe" in metrics
    for key in keys.values():
        assert key not in logs
        assert key not in metrics
        assert all(key.encode() not in blob for blob in statuses)
        assert all(key not in s.path and key not in str(s.query) for s in seen)
    # The keys did go out, in the handshake headers only.
    carried = [value for s in seen for value in s.headers.values()]
    assert all(any(key in value for value in carried) for key in keys.values())
