"""The live transcribers (Deepgram, ElevenLabs Scribe, Cartesia) held to the same cases:
a finalize mid-stream answered before the rest, and every error channel each provider has
ending the call non-OK with the provider's own words for it. Partials, finals with word times
and the caller's cancel run for all of them in `test_conformance` and `test_cancel`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import FinalizeAudio, TranscribeRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from integration_api.errors import DeadlineExceeded
from integration_api.providers.cartesia.stt import words_of
from integration_api.providers.egress import EgressPolicy
from integration_api.providers.elevenlabs.scribe import ScribeSession, commit_message
from integration_api.providers.websocket import SocketSettings, WebSocketClient
from integration_api.speech.contract import (
    AudioEncoding,
    AudioFormat,
    AudioInput,
    FinalizeInput,
    TranscribeInput,
    Transcript,
    TranscriptionMetadata,
    TranscriptionOptions,
)
from tests.fakes.speech_servers import TRANSCRIPT, ElevenLabsServer
from tests.speech.conftest import SpeechUpstream, exchange, exchange_ending_early, tone
from tests.speech.test_conformance import kinds, transcribe_config
from tests.speech.test_failures import error_info
from tests.support.service import RunningService

LIVE = ("deepgram", "elevenlabs", "cartesia")
# What each provider is sent for the caller's finalize.
FINALIZE = {
    "deepgram": {"type": "Finalize"},
    "elevenlabs": {"message_type": "input_audio_chunk", "audio_base_64": "", "commit": True},
    "cartesia": "finalize",
}


async def two_turns(upstream: SpeechUpstream) -> AsyncIterator[TranscribeRequest]:
    """Two turns of audio with the caller's finalize between them, paced like a live line
    (a service that ends the call is seen before the next write)."""
    yield transcribe_config(upstream)
    for turn in range(2):
        if turn:
            yield TranscribeRequest(finalize=FinalizeAudio())
        for frame in tone(0.1):
            yield TranscribeRequest(audio=frame)
            await asyncio.sleep(0.005)


@pytest.mark.parametrize("provider", LIVE)
async def test_finalize_mid_stream_is_answered_before_the_rest_of_the_audio(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    responses = await exchange(speech.transcribe(metadata=service.auth()), two_turns(upstream))
    assert kinds(responses)[-1] == "metadata"
    finals = [r.transcript for r in responses if r.transcript and r.transcript.is_final]
    assert [final.text for final in finals] == [TRANSCRIPT, TRANSCRIPT]
    assert all(final.words and final.words[0].text == "Paris" for final in finals)
    (session,) = upstream.server.sessions
    frames = session.frames
    finalize_at = next(i for i, f in enumerate(frames) if _is(f, FINALIZE[provider]))
    audio_after = [f for f in frames[finalize_at + 1 :] if _is_audio(f)]
    assert audio_after, "the second turn's audio follows the finalize"


def _decoded(frame: str) -> Any:
    try:
        return json.loads(frame)
    except ValueError:
        return frame  # a bare text command


def _is(frame: str | bytes, expected: object) -> bool:
    if isinstance(frame, bytes):
        return False
    decoded = _decoded(frame)
    if isinstance(expected, dict):
        return isinstance(decoded, dict) and expected.items() <= decoded.items()
    return bool(decoded == expected)


def _is_audio(frame: str | bytes) -> bool:
    """Binary audio, or Scribe's base64 audio inside JSON."""
    if isinstance(frame, bytes):
        return True
    decoded = _decoded(frame)
    return isinstance(decoded, dict) and bool(decoded.get("audio_base_64"))


# Every error channel of each live transcriber: (provider, behaviour, status, ErrorInfo items).
CHANNELS = [
    # A refusal at the upgrade.
    (
        "deepgram",
        "unauthorized",
        grpc.StatusCode.FAILED_PRECONDITION,
        {"reason": "CREDENTIAL_REJECTED"},
    ),
    (
        "elevenlabs",
        "unauthorized",
        grpc.StatusCode.FAILED_PRECONDITION,
        {"reason": "CREDENTIAL_REJECTED"},
    ),
    (
        "cartesia",
        "unauthorized",
        grpc.StatusCode.FAILED_PRECONDITION,
        {"reason": "CREDENTIAL_REJECTED"},
    ),
    # An error in band: a close code with its reason, a JSON error frame.
    (
        "deepgram",
        "undecodable",
        grpc.StatusCode.INVALID_ARGUMENT,
        {"provider_error_type": "DATA-0000"},
    ),
    ("deepgram", "error_message", grpc.StatusCode.UNAVAILABLE, {"provider_error_type": "INTERNAL"}),
    (
        "elevenlabs",
        "quota_frame",
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        {"provider_error_type": "quota_exceeded"},
    ),
    (
        "cartesia",
        "error_frame",
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        {"provider_error_type": "concurrency_limited"},
    ),
    # The connection dropped without a close frame.
    ("deepgram", "drop", grpc.StatusCode.UNAVAILABLE, {"provider_close_code": "1006"}),
    ("elevenlabs", "drop", grpc.StatusCode.UNAVAILABLE, {"provider_close_code": "1006"}),
    ("cartesia", "drop", grpc.StatusCode.UNAVAILABLE, {"provider_close_code": "1006"}),
    # An ordinary close before the provider's last answer: truncated, never complete.
    ("deepgram", "missing_metadata", grpc.StatusCode.UNAVAILABLE, {"reason": "STREAM_TRUNCATED"}),
    ("elevenlabs", "close_unanswered", grpc.StatusCode.UNAVAILABLE, {"reason": "STREAM_TRUNCATED"}),
    ("cartesia", "missing_done", grpc.StatusCode.UNAVAILABLE, {"reason": "STREAM_TRUNCATED"}),
]


@pytest.mark.parametrize(("provider", "behaviour", "code", "expected"), CHANNELS)
async def test_every_error_channel_ends_the_call_non_ok(
    provider: str,
    behaviour: str,
    code: grpc.StatusCode,
    expected: dict[str, str],
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    upstream.server.behaviour = behaviour

    async def audio() -> AsyncIterator[TranscribeRequest]:
        async for request in two_turns(upstream):
            yield request

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(lambda: speech.transcribe(metadata=service.auth()), audio)
    assert raised.value.code() == code
    info = error_info(raised.value)
    assert info["provider"] == provider
    assert expected.items() <= info.items()
    assert upstream.key not in (raised.value.details() or "")


def _options(*, interim: bool = True) -> TranscriptionOptions:
    return TranscriptionOptions(
        credential_id="",
        model="scribe_v2_realtime",
        language="",
        audio=AudioFormat(AudioEncoding.LINEAR16, 16000),
        interim_results=interim,
    )


async def _audio() -> AsyncIterator[TranscribeInput]:
    for frame in tone(0.1):
        yield AudioInput(frame)


async def test_scribe_without_timestamps_takes_the_plain_commit_as_the_answer() -> None:
    """Not asked for timestamps, Scribe answers a commit with the plain transcript alone."""
    async with ElevenLabsServer() as server:
        client = WebSocketClient(EgressPolicy(allow_loopback=True))
        url = server.base_url.replace("http", "ws") + "/v1/speech-to-text/realtime"
        try:
            async with client.connect(
                url + "?audio_format=pcm_16000",
                provider="elevenlabs",
                headers={"xi-api-key": "sk_el-key-0123456789abcdef"},
                end_of_input=commit_message(16000),
            ) as socket:
                session = ScribeSession(socket, _audio(), _options(), timestamps=False)
                events = [event async for event in session.events()]
        finally:
            await client.close()
    finals = [e for e in events if isinstance(e, Transcript) and e.is_final]
    assert [final.text for final in finals] == [TRANSCRIPT]
    assert not finals[0].words
    assert isinstance(events[-1], TranscriptionMetadata)
    (recorded,) = server.sessions
    assert "include_timestamps" not in recorded.query
    assert recorded.texts()[-1]["commit"] is True


async def test_scribe_partials_stay_with_the_service_unless_asked_for() -> None:
    async with ElevenLabsServer() as server:
        client = WebSocketClient(EgressPolicy(allow_loopback=True))
        url = server.base_url.replace("http", "ws") + "/v1/speech-to-text/realtime"
        try:
            async with client.connect(
                url + "?include_timestamps=true",
                provider="elevenlabs",
                headers={"xi-api-key": "sk_el-key-0123456789abcdef"},
                end_of_input=commit_message(16000),
            ) as socket:
                session = ScribeSession(socket, _audio(), _options(interim=False), timestamps=True)
                events = [event async for event in session.events()]
        finally:
            await client.close()
    transcripts = [e for e in events if isinstance(e, Transcript)]
    assert len(transcripts) == 1 and transcripts[0].is_final
    assert transcripts[0].words[0].text == "Paris" and transcripts[0].words[-1].end == 0.6


def test_cartesia_words_are_read_in_either_documented_shape() -> None:
    listed = [{"word": "How", "start": 0, "end": 0.12}, {"word": "are", "start": 0.15, "end": 0.25}]
    parallel = {"words": ["How", "are"], "start": [0, 0.15], "end": [0.12, 0.25]}
    for raw in (listed, parallel, [parallel]):
        words = words_of(raw)
        assert [(w.text, w.start, w.end) for w in words] == [("How", 0, 0.12), ("are", 0.15, 0.25)]


async def _two_turns_of_audio() -> AsyncIterator[TranscribeInput]:
    async for item in _audio():
        yield item
    yield FinalizeInput()
    async for item in _audio():
        yield item


async def test_scribe_commit_whose_twin_never_comes_is_answered_plain_or_ends_bounded() -> None:
    """Asked for timestamps, a plain commit followed by anything but its twin is the answer;
    a last one left without its twin ends the session once the provider's gap runs out,
    never waiting on a twin that is not coming for the rest of the session."""
    async with ElevenLabsServer() as server:
        server.behaviour = "plain_only"
        client = WebSocketClient(
            EgressPolicy(allow_loopback=True), SocketSettings(max_gap_seconds=0.3)
        )
        url = server.base_url.replace("http", "ws") + "/v1/speech-to-text/realtime"
        events: list[object] = []
        try:
            async with client.connect(
                url + "?include_timestamps=true",
                provider="elevenlabs",
                headers={"xi-api-key": "sk_el-key-0123456789abcdef"},
                end_of_input=commit_message(16000),
            ) as socket:
                session = ScribeSession(
                    socket, _two_turns_of_audio(), _options(interim=False), timestamps=True
                )
                with pytest.raises(DeadlineExceeded) as raised:
                    async for event in session.events():
                        events.append(event)
        finally:
            await client.close()
    assert raised.value.reason == "UPSTREAM_EVENT_GAP_TOO_LONG"
    # The first turn's plain commit, released by the partial of the second turn's audio.
    assert [e.text for e in events if isinstance(e, Transcript) and e.is_final] == [TRANSCRIPT]
