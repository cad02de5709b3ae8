"""Every speech provider through a real gRPC client: live audio in, transcripts out; text in,
audio out, batch and incrementally; and the provider's own protocol on the wire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import betterproto2
import grpc
import pytest
from integration_api_proto.integration.v1 import (
    AudioEncoding,
    AudioFormat,
    ClearText,
    FinalizeAudio,
    FlushText,
    SynthesisConfig,
    SynthesizeRequest,
    SynthesizeStreamRequest,
    TranscribeRequest,
    TranscriptionConfig,
)
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.fakes.speech_servers import AUDIO, TRANSCRIPT
from tests.speech.conftest import KEEPALIVE_SECONDS, SpeechUpstream, exchange, tone
from tests.support.service import RunningService

PROVIDERS = ("deepgram", "elevenlabs", "cartesia")
SYNTHESIZERS = (*PROVIDERS, "openai")
TRANSCRIBERS = ("deepgram", "elevenlabs", "assemblyai", "openai", "cartesia")
# OpenAI's transcription stream carries no word times.
WORD_TIMES = ("deepgram", "elevenlabs", "assemblyai", "cartesia")
REQUEST_IDS = {
    "deepgram": "dg-req-1",
    "elevenlabs": "el-sess-1",
    "assemblyai": "aai-sess-1",
    "openai": "req_stt_1",
    "cartesia": "car-stt-1",
}
VOICE = "21m00Tcm4TlvDq8ikWAM"
VOICES = {
    "elevenlabs": VOICE,
    "openai": "alloy",
    "cartesia": "a0e99841-438c-4a64-b679-ae501e7d6091",
}
# The one rate each provider produces raw audio at, where it has only one.
SYNTHESIS_RATES = {"openai": 24000}


def transcribe_config(upstream: SpeechUpstream) -> TranscribeRequest:
    return TranscribeRequest(
        config=TranscriptionConfig(
            credential_id=upstream.credential_id,
            audio=AudioFormat(encoding=AudioEncoding.LINEAR16, sample_rate_hz=16000),
            interim_results=True,
            language="en",
            keyterms=["Paris"],
            punctuate=True,
        )
    )


def synthesis_config(
    upstream: SpeechUpstream,
    rate: int | None = None,
    encoding: AudioEncoding = AudioEncoding.LINEAR16,
) -> SynthesisConfig:
    return SynthesisConfig(
        credential_id=upstream.credential_id,
        voice=VOICES.get(upstream.provider, "aura-2-thalia-en"),
        audio=AudioFormat(
            encoding=encoding,
            sample_rate_hz=rate or SYNTHESIS_RATES.get(upstream.provider, 16000),
        ),
    )


async def audio_stream(
    upstream: SpeechUpstream, *, pause: float = 0.0, finalize: bool = False
) -> AsyncIterator[TranscribeRequest]:
    yield transcribe_config(upstream)
    frames = tone(0.2)
    for index, frame in enumerate(frames):
        yield TranscribeRequest(audio=frame)
        # Paced like a live line (faster than real time): a service that ends the call is
        # seen before the next write, which the client would otherwise turn into INTERNAL.
        await asyncio.sleep(0.005)
        if index == 2 and pause:
            await asyncio.sleep(pause)  # the caller is silent
    if finalize:
        yield TranscribeRequest(finalize=FinalizeAudio())


def kinds(responses: Sequence[betterproto2.Message]) -> list[str]:
    return [betterproto2.which_one_of(item, "kind")[0] for item in responses]


@pytest.mark.parametrize("provider", TRANSCRIBERS)
async def test_transcribe_streams_transcripts_then_metadata(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, audio_stream(upstream))
    found = kinds(responses)
    assert found[-1] == "metadata" and found.count("metadata") == 1
    finals = [r.transcript for r in responses if r.transcript and r.transcript.is_final]
    assert [final.text for final in finals] == [TRANSCRIPT]
    assert finals[0].end_of_utterance
    if provider in WORD_TIMES:
        assert finals[0].words[0].text == "Paris"
        assert finals[0].words[0].end is not None and finals[0].words[0].end.total_seconds() > 0
    assert any(r.transcript and not r.transcript.is_final for r in responses), "interim missing"
    metadata = responses[-1].metadata
    assert metadata is not None and metadata.provider == provider
    assert metadata.audio_bytes == sum(len(frame) for frame in tone(0.2))
    assert metadata.provider_request_id == REQUEST_IDS[provider]


@pytest.mark.parametrize("provider", TRANSCRIBERS)
async def test_transcribe_sends_the_end_of_input_before_closing(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    call = speech.transcribe(metadata=service.auth())
    await exchange(call, audio_stream(upstream))
    (session,) = upstream.server.sessions
    last: Any = session.texts()[-1] if session.texts() else {}
    if provider == "deepgram":
        assert last == {"type": "CloseStream"}
        assert session.query["encoding"] == "linear16" and session.query["keyterm"] == "Paris"
        assert session.headers["authorization"] == f"Token {upstream.key}"
    elif provider == "assemblyai":
        assert last == {"type": "Terminate"}
        assert session.query["encoding"] == "pcm_s16le" and session.query["sample_rate"] == "16000"
        assert session.headers["authorization"] == upstream.key
        # 20 ms caller chunks, re-chunked into messages of 50 to 1000 ms.
        sizes = [len(frame) for frame in session.frames if isinstance(frame, bytes)]
        assert all(1600 <= size <= 32000 for size in sizes)
        assert sum(sizes) >= sum(len(frame) for frame in tone(0.2))
    elif provider == "cartesia":
        assert last == "close", "the bare text command, not JSON"
        assert session.query["encoding"] == "pcm_s16le" and session.query["keyterm"] == "Paris"
        assert session.headers["authorization"] == f"Bearer {upstream.key}"
        assert session.headers["cartesia-version"] == "2026-03-01"
    elif provider == "openai":
        # Not live: the audio the caller sent, whole, as one WAV file after its end of input.
        (upload,) = session.frames
        assert isinstance(upload, bytes) and upload[:4] == b"RIFF"
        assert upload[44:] == b"".join(tone(0.2))
        assert session.query["stream"] == "true" and session.query["prompt"] == "Paris"
        assert session.query["model"] == "gpt-4o-mini-transcribe"
        assert session.headers["authorization"] == f"Bearer {upstream.key}"
    else:
        assert last["commit"] is True and last["audio_base_64"] == ""
        assert session.query["audio_format"] == "pcm_16000"
        assert session.headers["xi-api-key"] == upstream.key
    assert upstream.key not in str(session.query), "the key travels only in headers"


async def test_deepgram_gets_keep_alives_while_the_caller_is_silent(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["deepgram"]
    upstream.server.idle_close_seconds = KEEPALIVE_SECONDS * 3
    stream = audio_stream(upstream, pause=KEEPALIVE_SECONDS * 5)
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, stream)
    assert kinds(responses)[-1] == "metadata"
    keepalives = [f for f in upstream.server.sessions[0].texts() if f == {"type": "KeepAlive"}]
    assert len(keepalives) >= 3


async def test_deepgram_finalize_is_forwarded(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["deepgram"]
    call = speech.transcribe(metadata=service.auth())
    await exchange(call, audio_stream(upstream, finalize=True))
    texts = upstream.server.sessions[0].texts()
    assert texts[-2:] == [{"type": "Finalize"}, {"type": "CloseStream"}]


@pytest.mark.parametrize("provider", SYNTHESIZERS)
async def test_synthesize_streams_raw_audio_then_done(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    request = SynthesizeRequest(config=synthesis_config(upstream), text="Hello there.")
    responses = [r async for r in speech.synthesize(request, metadata=service.auth())]
    assert kinds(responses)[-1] == "done"
    audio = b"".join(r.audio.data for r in responses if r.audio)
    assert audio == AUDIO * 3
    done = responses[-1].done
    assert done is not None and done.characters == len("Hello there.")
    assert done.audio_bytes == len(AUDIO) * 3 and done.time_to_first_audio is not None
    (session,) = upstream.server.sessions
    if provider == "deepgram":
        assert session.query["container"] == "none" and session.query["encoding"] == "linear16"
    elif provider == "openai":
        sent = json.loads(str(session.frames[0]))
        assert sent["response_format"] == "pcm" and sent["voice"] == "alloy"
        assert done.provider_request_id == "req_speech_1"
    elif provider == "cartesia":
        sent = json.loads(str(session.frames[0]))
        assert sent["output_format"] == {
            "container": "raw",
            "encoding": "pcm_s16le",
            "sample_rate": 16000,
        }
        assert session.headers["cartesia-version"] == "2026-03-01"
        assert session.headers["authorization"] == f"Bearer {upstream.key}"
    else:
        assert session.query["output_format"] == "pcm_16000"
        assert session.path.endswith(f"/{VOICE}/stream")


async def text_stream(
    upstream: SpeechUpstream, *, clear: bool = False, pause: float = 0.0
) -> AsyncIterator[SynthesizeStreamRequest]:
    yield SynthesizeStreamRequest(config=synthesis_config(upstream))
    yield SynthesizeStreamRequest(text="Hello ")
    yield SynthesizeStreamRequest(flush=FlushText())
    if pause:
        await asyncio.sleep(pause)
    if clear:
        await asyncio.sleep(0.2)
        yield SynthesizeStreamRequest(clear=ClearText())
    yield SynthesizeStreamRequest(text="world ")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_synthesize_stream_speaks_fragments_and_ends_with_done(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, text_stream(upstream))
    found = kinds(responses)
    assert found[-1] == "done" and "audio" in found
    done = responses[-1].done
    assert done is not None and done.characters == len("Hello world ")
    texts = upstream.server.sessions[0].texts()
    if provider == "deepgram":
        assert "flushed" in found
        assert texts[-2:] == [{"type": "Flush"}, {"type": "Close"}]
    elif provider == "cartesia":
        assert "flushed" in found
        assert [t["transcript"] for t in texts] == ["Hello ", "", "world ", ""]
        assert texts[1]["flush"] is True and texts[-1]["continue"] is False
        assert len({t["context_id"] for t in texts}) == 1, "one context for the whole stream"
        alignments = [r.alignment for r in responses if r.alignment]
        assert alignments and alignments[0].items[0].text == "Hello"
    else:
        assert texts[0] == {"text": " "} and texts[-1] == {"text": ""}
        alignments = [r.alignment for r in responses if r.alignment]
        assert alignments and alignments[0].items[0].text == "H"
        # Alignment restarts per chunk upstream; here it runs from the start of the stream.
        starts = [a.items[0].start.total_seconds() for a in alignments if a.items[0].start]
        assert starts == sorted(starts) and starts[-1] > 0


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_clear_drops_queued_audio_and_says_cleared(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, text_stream(upstream, clear=True))
    found = kinds(responses)
    assert "cleared" in found and found[-1] == "done"
    assert all(r.audio.data != b"late audio" for r in responses if r.audio)
    if provider == "elevenlabs":
        assert len(upstream.server.sessions) == 2, "a new socket for the text after the clear"
    elif provider == "cartesia":
        texts = upstream.server.sessions[0].texts()
        cancel = next(t for t in texts if t.get("cancel"))
        assert cancel == {"context_id": texts[0]["context_id"], "cancel": True}
        assert texts[-1]["context_id"] != cancel["context_id"], "a new context after the clear"
    else:
        assert {"type": "Clear"} in upstream.server.sessions[0].texts()


async def test_elevenlabs_socket_gets_keep_alives_while_the_caller_is_silent(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["elevenlabs"]
    upstream.server.idle_close_seconds = KEEPALIVE_SECONDS * 3
    stream = text_stream(upstream, pause=KEEPALIVE_SECONDS * 5)
    responses = await exchange(speech.synthesize_stream(metadata=service.auth()), stream)
    assert kinds(responses)[-1] == "done"
    assert upstream.server.sessions[0].texts().count({"text": " "}) >= 4


@pytest.mark.parametrize(
    ("provider", "encoding", "rate"),
    [
        ("elevenlabs", AudioEncoding.LINEAR16, 11025),
        ("openai", AudioEncoding.MULAW, 8000),
        ("openai", AudioEncoding.ALAW, 8000),
        ("openai", AudioEncoding.LINEAR16, 16000),  # pcm is 24 kHz only, never resampled
    ],
)
async def test_a_format_the_provider_cannot_produce_is_refused_naming_the_field(
    provider: str,
    encoding: AudioEncoding,
    rate: int,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    config = synthesis_config(upstreams[provider], rate=rate, encoding=encoding)
    request = SynthesizeRequest(config=config, text="Hello")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        [r async for r in speech.synthesize(request, metadata=service.auth())]
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "config.audio" in (raised.value.details() or "")
    assert not upstreams[provider].server.sessions


async def test_openai_streaming_synthesis_is_refused_naming_the_capability(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """OpenAI has no streaming-input speech endpoint: nothing is sent, and the caller is told."""
    upstream = upstreams["openai"]
    call = speech.synthesize_stream(metadata=service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call.write(SynthesizeStreamRequest(config=synthesis_config(upstream)))
        await call.read()
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "streaming synthesis" in (raised.value.details() or "")
    assert not upstream.server.sessions


async def test_openai_transcribes_each_finalized_turn_as_its_own_upload(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["openai"]

    async def two_turns() -> AsyncIterator[TranscribeRequest]:
        yield transcribe_config(upstream)
        for frame in tone(0.1):
            yield TranscribeRequest(audio=frame)
        yield TranscribeRequest(finalize=FinalizeAudio())
        for frame in tone(0.1):
            yield TranscribeRequest(audio=frame)

    responses = await exchange(speech.transcribe(metadata=service.auth()), two_turns())
    finals = [r.transcript for r in responses if r.transcript and r.transcript.is_final]
    assert len(finals) == 2 and len(upstream.server.sessions) == 2
    # The second turn is timed from the start of the stream, after the first.
    assert finals[1].start is not None and finals[1].start.total_seconds() == pytest.approx(0.1)
    metadata = responses[-1].metadata
    assert metadata is not None and metadata.audio_duration is not None
    assert metadata.audio_duration.total_seconds() == pytest.approx(0.2)
