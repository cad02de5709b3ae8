"""Speech sessions end: a caller that sends nothing at the idle bound (the keep-alives the service
sends upstream meanwhile do not count), any session at its maximum duration; and a connection
past its maximum age lets a live session on it finish within the grace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    SynthesizeStreamRequest,
    TranscribeRequest,
)
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from integration_api.config import GrpcLimits
from integration_api.config.speech_limits import SpeechLimits
from tests.speech.conftest import (
    KEYS,
    SpeechUpstream,
    exchange,
    exchange_ending_early,
    register,
    replay_servers,
    tone,
)
from tests.speech.test_conformance import kinds, synthesis_config, transcribe_config
from tests.speech.test_failures import error_info
from tests.support.service import RunningService, running_service

KEEPALIVE_SECONDS = 0.1
MAX_IDLE_SECONDS = 0.6
MAX_SESSION_SECONDS = 1.5


@pytest.fixture(scope="module")
async def bounded_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    limits = SpeechLimits(
        keepalive_seconds=KEEPALIVE_SECONDS,
        max_caller_idle_seconds=MAX_IDLE_SECONDS,
        max_session_seconds=MAX_SESSION_SECONDS,
    )
    async with running_service(package_database_dsn, speech=limits) as service:
        yield service


@pytest.fixture(scope="module")
async def bounded_upstreams(
    bounded_service: RunningService,
) -> AsyncIterator[dict[str, SpeechUpstream]]:
    async with replay_servers() as servers:
        yield await register(bounded_service, servers, KEYS)


async def _ended(
    service: RunningService, requests: Callable[[], AsyncIterator[TranscribeRequest]]
) -> tuple[grpc.aio.AioRpcError, float]:
    speech = SpeechServiceStub(service.channel)
    started = time.perf_counter()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await asyncio.wait_for(
            exchange_ending_early(lambda: speech.transcribe(metadata=service.auth()), requests), 10
        )
    return raised.value, time.perf_counter() - started


async def test_a_transcription_with_a_config_and_no_audio_ends_at_the_idle_bound(
    bounded_service: RunningService, bounded_upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = bounded_upstreams["deepgram"]

    async def config_then_silence() -> AsyncIterator[TranscribeRequest]:
        yield transcribe_config(upstream)
        await asyncio.sleep(30)

    error, elapsed = await _ended(bounded_service, config_then_silence)
    assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_info(error)["reason"] == "SPEECH_CALLER_IDLE"
    assert MAX_IDLE_SECONDS - 0.05 < elapsed < MAX_IDLE_SECONDS + 1.0
    (session,) = upstream.server.sessions
    keepalives = [t for t in session.texts() if t == {"type": "KeepAlive"}]
    assert len(keepalives) >= 2, "the service kept the provider alive, which did not count"
    assert await session.closed()


async def test_empty_audio_frames_do_not_keep_a_session_open(
    bounded_service: RunningService, bounded_upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = bounded_upstreams["deepgram"]

    async def empty_frames() -> AsyncIterator[TranscribeRequest]:
        yield transcribe_config(upstream)
        for _ in range(100):
            yield TranscribeRequest(audio=b"")
            await asyncio.sleep(0.1)

    error, _elapsed = await _ended(bounded_service, empty_frames)
    assert error_info(error)["reason"] == "SPEECH_CALLER_IDLE"


async def test_a_transcription_still_sending_audio_ends_at_the_maximum_duration(
    bounded_service: RunningService, bounded_upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = bounded_upstreams["deepgram"]

    async def endless_audio() -> AsyncIterator[TranscribeRequest]:
        yield transcribe_config(upstream)
        frame = tone(0.02)[0]
        for _ in range(500):
            yield TranscribeRequest(audio=frame)
            await asyncio.sleep(0.05)

    error, elapsed = await _ended(bounded_service, endless_audio)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(error)["reason"] == "SPEECH_SESSION_DURATION_LIMIT"
    assert MAX_SESSION_SECONDS - 0.05 < elapsed < MAX_SESSION_SECONDS + 1.0
    for session in upstream.server.sessions:
        assert await session.closed()


async def test_a_synthesis_stream_whose_caller_sends_no_text_ends_at_the_idle_bound(
    bounded_service: RunningService, bounded_upstreams: dict[str, SpeechUpstream]
) -> None:
    config = synthesis_config(bounded_upstreams["elevenlabs"])

    async def config_then_silence() -> AsyncIterator[SynthesizeStreamRequest]:
        yield SynthesizeStreamRequest(config=config)
        await asyncio.sleep(30)

    call = SpeechServiceStub(bounded_service.channel).synthesize_stream(
        metadata=bounded_service.auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await asyncio.wait_for(exchange(call, config_then_silence()), 10)
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_info(raised.value)["reason"] == "SPEECH_CALLER_IDLE"


async def test_a_live_session_on_a_connection_past_its_age_finishes_within_the_grace(
    package_database_dsn: str,
) -> None:
    limits = GrpcLimits(max_connection_age_seconds=0.3, max_connection_age_grace_seconds=5.0)
    async with (
        running_service(package_database_dsn, grpc=limits) as service,
        replay_servers() as servers,
    ):
        upstream = (await register(service, {"deepgram": servers["deepgram"]}, KEYS))["deepgram"]
        async with grpc.aio.insecure_channel(service.address) as channel:

            async def paced_audio() -> AsyncIterator[TranscribeRequest]:
                yield transcribe_config(upstream)
                for frame in tone(0.2):  # 10 frames over about a second
                    yield TranscribeRequest(audio=frame)
                    await asyncio.sleep(0.1)

            call = SpeechServiceStub(channel).transcribe(metadata=service.auth())
            started = time.perf_counter()
            responses = await exchange(call, paced_audio())
            assert time.perf_counter() - started > 0.9, "the session outlived the age"
            assert kinds(responses)[-1] == "metadata"
            # The connection was told to go away: the next call is made on a new one.
            assert channel.get_state() != grpc.ChannelConnectivity.READY
