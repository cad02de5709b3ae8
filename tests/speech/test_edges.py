"""What real providers do at the edges: a model that answers a streamed transcription with one
JSON transcript, an ElevenLabs flush (which has no answer of its own), and audio frames that
split a sample."""

from __future__ import annotations

from collections.abc import AsyncIterator

from integration_api_proto.integration.v1 import (
    AudioEncoding,
    AudioFormat,
    FlushText,
    SynthesizeRequest,
    SynthesizeStreamRequest,
    TranscribeRequest,
    TranscriptionConfig,
)
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.fakes.speech_servers import AUDIO, TRANSCRIPT
from tests.speech.conftest import SpeechUpstream, exchange, tone
from tests.speech.test_conformance import kinds, synthesis_config
from tests.support.service import RunningService


async def _audio(upstream: SpeechUpstream, model: str) -> AsyncIterator[TranscribeRequest]:
    audio = AudioFormat(encoding=AudioEncoding.LINEAR16, sample_rate_hz=16000)
    config = TranscriptionConfig(credential_id=upstream.credential_id, audio=audio, model=model)
    yield TranscribeRequest(config=config)
    for frame in tone(0.2):
        yield TranscribeRequest(audio=frame)


async def test_a_json_transcript_where_a_stream_was_asked_for_is_the_final(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """A model that does not stream answers `stream=true` with one JSON transcript (200)."""
    upstream = upstreams["openai"]
    upstream.server.behaviour = "not_streaming"
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, _audio(upstream, "gpt-4o-mini-transcribe"))
    assert kinds(responses) == ["transcript", "metadata"]
    final = responses[0].transcript
    assert final is not None and final.is_final and final.end_of_utterance
    assert final.text == TRANSCRIPT
    (session,) = upstream.server.sessions
    assert session.query["response_format"] == "json"


async def test_whisper_answers_its_words_and_duration(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """`whisper-1` never streams: it is asked for `verbose_json`, whose words are kept."""
    upstream = upstreams["openai"]
    upstream.server.behaviour = "not_streaming"
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, _audio(upstream, "whisper-1"))
    assert kinds(responses) == ["transcript", "metadata"]
    final = responses[0].transcript
    assert final is not None and final.is_final and final.text == TRANSCRIPT
    assert [word.text for word in final.words] == ["Paris", "at"]
    assert final.words[1].end is not None and final.words[1].end.total_seconds() == 0.6
    assert final.end is not None and final.end.total_seconds() == 2.3
    (session,) = upstream.server.sessions
    assert session.query["model"] == "whisper-1"
    assert session.query["response_format"] == "verbose_json"
    assert session.query["timestamp_granularities[]"] == "word"


async def _flushed_text(upstream: SpeechUpstream) -> AsyncIterator[SynthesizeStreamRequest]:
    yield SynthesizeStreamRequest(config=synthesis_config(upstream))
    yield SynthesizeStreamRequest(text="Hello ")
    yield SynthesizeStreamRequest(text="there. ")
    yield SynthesizeStreamRequest(flush=FlushText())
    yield SynthesizeStreamRequest(text="How are you? ")


async def test_elevenlabs_answers_a_flush_once_its_text_is_spoken(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """ElevenLabs buffers text until a flush and answers it with audio only (in pieces): the
    `flushed` event comes after the last piece of the flushed text, as Deepgram's does."""
    upstream = upstreams["elevenlabs"]
    upstream.server.behaviour = "buffered"
    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, _flushed_text(upstream))
    found = kinds(responses)
    assert found.count("flushed") == 1 and found[-1] == "done"
    flushed = found.index("flushed")
    spoken = "".join(
        item.text for r in responses[:flushed] if r.alignment for item in r.alignment.items
    )
    assert spoken == "Hello there."
    assert "audio" in found[flushed:], "the text after the flush is spoken after it"


async def test_elevenlabs_answers_every_flush_before_the_end(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["elevenlabs"]

    async def flush_twice() -> AsyncIterator[SynthesizeStreamRequest]:
        yield SynthesizeStreamRequest(config=synthesis_config(upstream))
        yield SynthesizeStreamRequest(text="Hello ")
        yield SynthesizeStreamRequest(flush=FlushText())
        yield SynthesizeStreamRequest(flush=FlushText())

    call = speech.synthesize_stream(metadata=service.auth())
    found = kinds(await exchange(call, flush_twice()))
    assert found.count("flushed") == 2 and found[-1] == "done"


async def test_linear16_chunks_hold_whole_samples(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """Frames of 3, 497 and 300 bytes reach the caller as 2, 498 and 300."""
    upstream = upstreams["deepgram"]
    upstream.server.behaviour = "odd_frames"

    async def one_sentence() -> AsyncIterator[SynthesizeStreamRequest]:
        yield SynthesizeStreamRequest(config=synthesis_config(upstream))
        yield SynthesizeStreamRequest(text="Hello. ")

    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, one_sentence())
    chunks = [r.audio.data for r in responses if r.audio]
    assert all(len(chunk) % 2 == 0 for chunk in chunks)
    assert b"".join(chunks)[: len(AUDIO)] == AUDIO
    assert [len(chunk) for chunk in chunks][:3] == [2, 498, 300]
    done = responses[-1].done
    assert done is not None and done.audio_bytes == sum(len(chunk) for chunk in chunks)


async def test_mulaw_chunks_pass_as_they_come(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """One byte is one sample: an odd-sized μ-law chunk is already whole."""
    upstream = upstreams["deepgram"]
    upstream.server.behaviour = "odd_frames"

    async def one_sentence() -> AsyncIterator[SynthesizeStreamRequest]:
        config = synthesis_config(upstream, rate=8000, encoding=AudioEncoding.MULAW)
        yield SynthesizeStreamRequest(config=config)
        yield SynthesizeStreamRequest(text="Hello. ")

    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, one_sentence())
    assert [len(r.audio.data) for r in responses if r.audio][:3] == [3, 497, 300]


async def test_batch_synthesis_chunks_hold_whole_samples(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["openai"]
    request = SynthesizeRequest(config=synthesis_config(upstream), text="Hello there.")
    responses = [r async for r in speech.synthesize(request, metadata=service.auth())]
    assert all(len(r.audio.data) % 2 == 0 for r in responses if r.audio)
