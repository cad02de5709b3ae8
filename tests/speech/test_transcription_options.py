"""Every option of `TranscriptionConfig` reaches each provider as its own parameter, or the
call is refused naming the field before anything is sent: none is dropped on the way."""

from __future__ import annotations

import datetime
import json
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    AudioEncoding,
    AudioFormat,
    TranscribeRequest,
    TranscriptionConfig,
)
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.speech.conftest import SpeechUpstream, exchange_ending_early, tone
from tests.speech.test_conformance import TRANSCRIBERS, kinds
from tests.support.service import RunningService


def config(upstream: SpeechUpstream, **options: Any) -> TranscriptionConfig:
    return TranscriptionConfig(
        credential_id=upstream.credential_id,
        audio=AudioFormat(encoding=AudioEncoding.LINEAR16, sample_rate_hz=16000),
        **options,
    )


async def transcribe(
    speech: SpeechServiceStub, service: RunningService, settings: TranscriptionConfig
) -> list[Any]:
    """The answers to a short stream configured with `settings` (or its status, raised)."""

    async def requests() -> Any:
        yield TranscribeRequest(config=settings)
        for frame in tone(0.2):
            yield TranscribeRequest(audio=frame)

    return await exchange_ending_early(lambda: speech.transcribe(metadata=service.auth()), requests)


EVERY_OPTION = {
    "language": "en-US",
    "interim_results": True,
    "punctuate": True,
    "keyterms": ["Paris", "moment"],
    "endpointing": datetime.timedelta(milliseconds=500),
}
# What each provider's request carries for EVERY_OPTION (diarize where it has speakers).
WIRE: dict[str, dict[str, Any]] = {
    "deepgram": {
        "language": "en-US",
        "interim_results": "true",
        "punctuate": "true",
        "diarize": "true",
        "endpointing": "500",
    },
    "assemblyai": {
        "language_codes": json.dumps(["en"]),
        "format_turns": "true",
        "speaker_labels": "true",
        "min_turn_silence": "500",
        "keyterms_prompt": json.dumps(["Paris", "moment"]),
    },
    "elevenlabs": {
        "language_code": "en",
        "commit_strategy": "vad",
        "vad_silence_threshold_secs": "0.5",
        "include_timestamps": "true",
    },
    "cartesia": {"language": "en", "max_silence_duration_secs": "0.5", "model": "ink-whisper"},
    "openai": {"language": "en", "prompt": "Paris, moment"},
}
DIARIZES = ("deepgram", "assemblyai")
# Query parameters sent once per key term.
REPEATED_KEYTERMS = {"deepgram": "keyterm", "elevenlabs": "keyterms", "cartesia": "keyterm"}


@pytest.mark.parametrize("provider", TRANSCRIBERS)
async def test_every_option_reaches_the_provider_as_its_own_parameter(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    options = {**EVERY_OPTION, "diarize": provider in DIARIZES}
    if provider == "openai":
        del options["endpointing"]  # refused: see the test below
    settings = config(upstream, **options)
    responses = await transcribe(speech, service, settings)
    assert kinds(responses)[-1] == "metadata"
    (session, *_) = upstream.server.sessions
    assert WIRE[provider].items() <= session.query.items()
    if provider in REPEATED_KEYTERMS:
        # Once per term; the recorded query keeps the first one.
        assert session.query[REPEATED_KEYTERMS[provider]] == "Paris"
    finals = [r.transcript for r in responses if r.transcript and r.transcript.is_final]
    assert finals and finals[-1].text.endswith(".")


@pytest.mark.parametrize("provider", TRANSCRIBERS)
async def test_interim_results_reach_the_caller_only_when_asked_for(
    provider: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    responses = await transcribe(speech, service, config(upstream, interim_results=False))
    transcripts = [r.transcript for r in responses if r.transcript]
    assert transcripts and all(t.is_final for t in transcripts)
    if provider == "deepgram":
        assert upstream.server.sessions[0].query["interim_results"] == "false"


@pytest.mark.parametrize(
    ("provider", "field", "options"),
    [
        ("elevenlabs", "config.diarize", {"diarize": True}),
        ("elevenlabs", "config.endpointing", {"endpointing": datetime.timedelta(seconds=5)}),
        ("elevenlabs", "config.endpointing", {"endpointing": datetime.timedelta(seconds=0.1)}),
        ("cartesia", "config.diarize", {"diarize": True}),
        (
            "cartesia",
            "config.endpointing",
            {"endpointing": datetime.timedelta(seconds=1), "model": "ink-2"},
        ),
        ("openai", "config.diarize", {"diarize": True}),
        ("openai", "config.endpointing", {"endpointing": datetime.timedelta(seconds=1)}),
    ],
)
async def test_an_option_the_provider_has_no_equivalent_for_is_refused_naming_it(
    provider: str,
    field: str,
    options: dict[str, Any],
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    call = speech.transcribe(metadata=service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        # Refused on the configuration alone, before any audio.
        await call.write(TranscribeRequest(config=config(upstream, **options)))
        await call.read()
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (raised.value.details() or "")
    assert provider in (raised.value.details() or "")
    assert not upstream.server.sessions, "nothing reaches a provider that cannot honour it"


async def test_assemblyai_without_punctuate_asks_for_no_formatting_and_gets_the_plain_turn(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["assemblyai"]
    responses = await transcribe(speech, service, config(upstream))
    (session,) = upstream.server.sessions
    assert session.query["format_turns"] == "false"
    finals = [r.transcript for r in responses if r.transcript and r.transcript.is_final]
    assert [final.text for final in finals] == ["paris at a moments notice"]


async def test_assemblyai_with_punctuate_takes_the_formatted_turn_as_the_only_final(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["assemblyai"]
    responses = await transcribe(
        speech, service, config(upstream, punctuate=True, interim_results=True)
    )
    transcripts = [r.transcript for r in responses if r.transcript]
    assert [t.text for t in transcripts if t.is_final] == ["Paris at a moment's notice."]
    # The unformatted end of the turn came first, as an interim.
    assert "paris at a moments notice" in [t.text for t in transcripts if not t.is_final]
