"""The bounds of speech sessions, through a real gRPC client against a service with tight ones:
audio per session, text per synthesis, sessions per tenant, frame size and a silent provider.
Each ends the call at once with a status whose ErrorInfo reason names the bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    SynthesizeRequest,
    SynthesizeStreamRequest,
    TranscribeRequest,
    TranscribeResponse,
)
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from integration_api.config.speech_limits import SpeechLimits
from integration_api.upstream.limits import UpstreamLimits
from tests.speech.conftest import (
    KEYS,
    SpeechUpstream,
    exchange,
    exchange_ending_early,
    register,
    replay_servers,
    tone,
)
from tests.speech.test_conformance import (
    audio_stream,
    kinds,
    synthesis_config,
    transcribe_config,
)
from tests.speech.test_failures import error_info
from tests.support.service import RunningService, running_service

MAX_AUDIO_BYTES = 2000  # below one synthesis of the replay servers (2400 bytes)
MAX_TEXT = 20
MAX_FRAME_BYTES = 16384
MAX_GAP_SECONDS = 0.6


@pytest.fixture(scope="module")
async def capped_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    limits = SpeechLimits(
        keepalive_seconds=0.2,
        max_audio_bytes=MAX_AUDIO_BYTES,
        max_sessions_per_tenant=1,
        max_text_characters=MAX_TEXT,
        max_frame_bytes=MAX_FRAME_BYTES,
    )
    upstream = UpstreamLimits(max_event_gap_seconds=MAX_GAP_SECONDS)
    async with running_service(package_database_dsn, speech=limits, upstream=upstream) as service:
        yield service


@pytest.fixture(scope="module")
async def capped_upstreams(
    capped_service: RunningService,
) -> AsyncIterator[dict[str, SpeechUpstream]]:
    async with replay_servers() as servers:
        yield await register(capped_service, servers, KEYS)


@pytest.fixture
def capped_speech(capped_service: RunningService) -> SpeechServiceStub:
    return SpeechServiceStub(capped_service.channel)


async def test_transcription_past_the_audio_cap_ends_and_closes_the_provider_session(
    capped_speech: SpeechServiceStub,
    capped_service: RunningService,
    capped_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = capped_upstreams["deepgram"]
    call = capped_speech.transcribe(metadata=capped_service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange(call, audio_stream(upstream))
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(raised.value)["reason"] == "SPEECH_AUDIO_LIMIT"
    (session,) = upstream.server.sessions
    sent = sum(len(frame) for frame in session.frames if isinstance(frame, bytes))
    assert sent <= MAX_AUDIO_BYTES, "audio past the cap never reaches the provider"
    assert await session.closed()
    assert session.texts()[-1] == {"type": "CloseStream"}


async def test_synthesis_past_the_audio_cap_ends_with_the_audio_limit(
    capped_speech: SpeechServiceStub,
    capped_service: RunningService,
    capped_upstreams: dict[str, SpeechUpstream],
) -> None:
    request = SynthesizeRequest(config=synthesis_config(capped_upstreams["deepgram"]), text="Hi")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        [r async for r in capped_speech.synthesize(request, metadata=capped_service.auth())]
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(raised.value)["reason"] == "SPEECH_AUDIO_LIMIT"


@pytest.mark.parametrize("rpc", ["synthesize", "synthesize_stream"])
async def test_text_past_the_cap_is_refused_with_the_text_limit(
    rpc: str,
    capped_speech: SpeechServiceStub,
    capped_service: RunningService,
    capped_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = capped_upstreams["elevenlabs"]
    config = synthesis_config(upstream)

    async def fragments() -> AsyncIterator[SynthesizeStreamRequest]:
        yield SynthesizeStreamRequest(config=config)
        for _ in range(3):
            yield SynthesizeStreamRequest(text="ten chars ")

    auth = capped_service.auth()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        if rpc == "synthesize":
            request = SynthesizeRequest(config=config, text="x" * (MAX_TEXT + 1))
            [r async for r in capped_speech.synthesize(request, metadata=auth)]
        else:
            await exchange(capped_speech.synthesize_stream(metadata=auth), fragments())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(raised.value)["reason"] == "SPEECH_TEXT_LIMIT"
    sent = [
        frame.get("text", "")
        for session in upstream.server.sessions
        for frame in session.texts()
        if isinstance(frame, dict) and frame.get("text", "").strip()  # not keep-alives
    ]
    assert len("".join(sent)) <= MAX_TEXT


async def test_a_session_past_the_tenant_cap_is_refused_with_the_speech_session_limit(
    capped_speech: SpeechServiceStub,
    capped_service: RunningService,
    capped_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = capped_upstreams["deepgram"]
    auth = capped_service.auth()
    open_call = capped_speech.transcribe(metadata=auth)
    await open_call.write(transcribe_config(upstream))
    await open_call.write(TranscribeRequest(audio=tone(0.02)[0]))
    first = await open_call.read()
    assert isinstance(first, TranscribeResponse) and first.speech_started  # the slot is held
    request = SynthesizeRequest(config=synthesis_config(upstream), text="Hi")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        [r async for r in capped_speech.synthesize(request, metadata=auth)]
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(raised.value)["reason"] == "SPEECH_SESSION_LIMIT"
    other_tenant = capped_service.auth(organization_id="org-other")
    # Another tenant's call is not refused: it fails later, at its own credential lookup.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        [r async for r in capped_speech.synthesize(request, metadata=other_tenant)]
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    await open_call.done_writing()
    rest: list[TranscribeResponse] = []
    while isinstance(response := await open_call.read(), TranscribeResponse):
        rest.append(response)
    assert kinds(rest)[-1] == "metadata"
    # The slot is free again once the session ended.
    upstream.server.behaviour = "normal"
    await asyncio.sleep(0.05)
    call = capped_speech.synthesize(
        SynthesizeRequest(config=synthesis_config(capped_upstreams["elevenlabs"]), text="Hi"),
        metadata=auth,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        [r async for r in call]
    assert error_info(raised.value)["reason"] == "SPEECH_AUDIO_LIMIT"


async def test_a_frame_past_the_limit_ends_the_session(
    capped_speech: SpeechServiceStub,
    capped_service: RunningService,
    capped_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = capped_upstreams["deepgram"]
    upstream.server.behaviour = "big_frame"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: capped_speech.transcribe(metadata=capped_service.auth()),
            lambda: audio_stream(upstream),
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(raised.value)["reason"] == "UPSTREAM_FRAME_TOO_LARGE"


async def test_a_silent_provider_ends_the_session_after_the_event_gap(
    capped_speech: SpeechServiceStub,
    capped_service: RunningService,
    capped_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = capped_upstreams["deepgram"]
    upstream.server.behaviour = "silent"

    async def audio() -> AsyncIterator[TranscribeRequest]:
        yield transcribe_config(upstream)
        yield TranscribeRequest(audio=tone(0.02)[0])
        await asyncio.sleep(30)  # the caller stays on the line

    started = time.monotonic()
    call = capped_speech.transcribe(metadata=capped_service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange(call, audio())
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_info(raised.value)["reason"] == "UPSTREAM_EVENT_GAP_TOO_LONG"
    assert time.monotonic() - started < MAX_GAP_SECONDS * 4
    assert await upstream.server.sessions[0].closed()


async def test_a_silent_caller_is_not_cut_off_by_the_event_gap(
    capped_speech: SpeechServiceStub,
    capped_service: RunningService,
    capped_upstreams: dict[str, SpeechUpstream],
) -> None:
    """The provider answered everything it was sent; only keep-alives go while the caller is
    quiet, and a keep-alive is owed no answer."""
    upstream = capped_upstreams["deepgram"]

    async def audio() -> AsyncIterator[TranscribeRequest]:
        yield transcribe_config(upstream)
        yield TranscribeRequest(audio=tone(0.02)[0])
        await asyncio.sleep(MAX_GAP_SECONDS * 3)

    call = capped_speech.transcribe(metadata=capped_service.auth())
    assert kinds(await exchange(call, audio()))[-1] == "metadata"
    assert {"type": "KeepAlive"} in upstream.server.sessions[0].texts()
