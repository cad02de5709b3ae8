"""Transcribe, Synthesize and SynthesizeStream through the real service each leave one usage
record: audio seconds in (the provider's figure, else the audio forwarded), characters sent and
audio seconds out (for raw audio; none for MP3), the voice and the provider's request id; a
caller hanging up mid-session is recorded once, as cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    AudioEncoding,
    SynthesizeRequest,
    SynthesizeStreamRequest,
    TranscribeRequest,
)
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from integration_api.usage.record import SYNTHESIZE, SYNTHESIZE_STREAM, TRANSCRIBE
from tests.fakes.speech_servers import AUDIO
from tests.speech.conftest import KEYS, SpeechUpstream, exchange, register, replay_servers, tone
from tests.speech.test_conformance import (
    audio_stream,
    synthesis_config,
    text_stream,
    transcribe_config,
)
from tests.support.service import RunningService
from tests.support.usage import DEFAULT_TENANT, CapturingLedger, RefusingBudgets
from tests.usage.records_support import (
    Window,
    budgets,
    fresh_usage,
    ledger,
    no_record,
    one_record,
    refused_by_budget,
    secrets_absent,
    service,
)

__all__ = ["budgets", "fresh_usage", "ledger", "service"]

# 0.2 s of 16 kHz linear16: what `audio_stream` sends.
SENT_AUDIO_BYTES = sum(len(frame) for frame in tone(0.2))
TEXT = "Hello there."


@pytest.fixture(scope="module")
async def speech_upstreams(service: RunningService) -> AsyncIterator[dict[str, SpeechUpstream]]:
    async with replay_servers() as servers:
        yield await register(service, servers, KEYS)


@pytest.fixture
def speech(service: RunningService) -> SpeechServiceStub:
    return SpeechServiceStub(service.channel)


async def test_a_transcription_records_the_audio_duration_the_provider_reported(
    speech: SpeechServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    speech_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = speech_upstreams["deepgram"]
    window = Window()
    responses = await exchange(speech.transcribe(metadata=service.auth()), audio_stream(upstream))
    window.close()
    record = await one_record(ledger)

    assert responses[-1].metadata is not None
    assert (record.tenant, record.operation, record.outcome) == (DEFAULT_TENANT, TRANSCRIBE, "ok")
    assert (record.provider, record.credential_id) == ("deepgram", upstream.credential_id)
    assert record.audio_seconds_in == 2.3  # Deepgram's own figure, not the bytes sent
    assert record.provider_request_id == "dg-req-1"
    assert record.audio_seconds_out is None and record.characters is None
    assert window.holds(record)
    secrets_absent(ledger.records, upstream.key)


async def test_a_transcription_without_a_reported_duration_counts_the_audio_forwarded(
    speech: SpeechServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    speech_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = speech_upstreams["elevenlabs"]
    await exchange(speech.transcribe(metadata=service.auth()), audio_stream(upstream))
    record = await one_record(ledger)

    assert record.audio_seconds_in == pytest.approx(SENT_AUDIO_BYTES / (2 * 16000)) == 0.2
    assert record.provider_request_id == "el-sess-1"


async def test_a_synthesis_records_characters_sent_and_audio_seconds_delivered(
    speech: SpeechServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    speech_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = speech_upstreams["elevenlabs"]
    config = synthesis_config(upstream)
    request = SynthesizeRequest(config=config, text=TEXT)
    responses = [r async for r in speech.synthesize(request, metadata=service.auth())]
    record = await one_record(ledger)

    delivered = sum(len(r.audio.data) for r in responses if r.audio)
    assert delivered == len(AUDIO) * 3
    assert (record.operation, record.outcome, record.provider) == (SYNTHESIZE, "ok", "elevenlabs")
    assert record.characters == len(TEXT)
    assert record.audio_seconds_out == pytest.approx(delivered / (2 * 16000))
    assert record.voice == config.voice
    assert record.audio_seconds_in is None
    secrets_absent(ledger.records, upstream.key)


async def test_compressed_audio_out_has_no_seconds_without_a_provider_figure(
    speech: SpeechServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    speech_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = speech_upstreams["deepgram"]
    config = synthesis_config(upstream, rate=22050, encoding=AudioEncoding.MP3)
    request = SynthesizeRequest(config=config, text=TEXT)
    [r async for r in speech.synthesize(request, metadata=service.auth())]
    record = await one_record(ledger)

    assert record.outcome == "ok"
    assert record.characters == len(TEXT)
    assert record.audio_seconds_out is None


async def test_a_streamed_synthesis_records_every_character_sent(
    speech: SpeechServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    speech_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = speech_upstreams["deepgram"]
    responses = await exchange(
        speech.synthesize_stream(metadata=service.auth()), text_stream(upstream)
    )
    record = await one_record(ledger)

    delivered = sum(len(r.audio.data) for r in responses if r.audio)
    assert (record.operation, record.outcome) == (SYNTHESIZE_STREAM, "ok")
    assert record.characters == len("Hello world ")
    assert record.audio_seconds_out == pytest.approx(delivered / (2 * 16000))


async def _open_line(
    upstream: SpeechUpstream, hung_up: asyncio.Event
) -> AsyncIterator[TranscribeRequest]:
    """The caller's audio, then an open line (no end of input) until it hangs up."""
    yield transcribe_config(upstream)
    for frame in tone(0.2):
        yield TranscribeRequest(audio=frame)
    await hung_up.wait()


async def test_a_caller_hanging_up_mid_session_is_recorded_once_as_cancelled(
    speech: SpeechServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    speech_upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = speech_upstreams["elevenlabs"]
    hung_up = asyncio.Event()
    call = speech.transcribe(_open_line(upstream, hung_up), metadata=service.auth())
    async for response in call:
        if response.transcript is not None:
            break
    call.cancel()
    hung_up.set()
    record = await one_record(ledger)

    assert record.outcome == "cancelled"
    # What had been forwarded when the caller left: never more than was sent.
    assert record.audio_seconds_in is not None
    assert 0 < record.audio_seconds_in <= SENT_AUDIO_BYTES / (2 * 16000)


async def test_a_synthesis_refused_by_a_budget_is_not_usage(
    speech: SpeechServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    speech_upstreams: dict[str, SpeechUpstream],
    budgets: RefusingBudgets,
) -> None:
    upstream = speech_upstreams["elevenlabs"]
    budgets.spent_credentials.add(upstream.credential_id)
    sessions_before = len(upstream.server.sessions)
    request = SynthesizeStreamRequest(config=synthesis_config(upstream))

    async def only_config() -> AsyncIterator[SynthesizeStreamRequest]:
        yield request

    call = speech.synthesize_stream(only_config(), metadata=service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as refusal:
        [r async for r in call]
    refused_by_budget(refusal.value)
    assert len(upstream.server.sessions) == sessions_before
    await no_record(ledger)
