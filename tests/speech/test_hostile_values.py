"""A provider's transcript with a number no response field can hold, or a NUL, ends the call
`UNAVAILABLE`/`PROVIDER_BAD_RESPONSE` naming the provider, never INTERNAL or UNKNOWN."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.fakes.speech_servers import DeepgramServer
from tests.speech.conftest import SpeechUpstream, exchange_ending_early
from tests.speech.test_conformance import audio_stream, text_stream
from tests.speech.test_failures import error_info
from tests.support.service import RunningService

FOUR_HUNDRED_DIGITS = "1" + "0" * 399

# (what the recorded Results frame says, what the hostile one says instead)
HOSTILE_RESULTS = {
    "word confidence 1e300": ('"confidence": 0.9,', '"confidence": 1e300,'),
    "transcript confidence Infinity": ('"confidence": 0.99', '"confidence": Infinity'),
    "word start NaN": ('"start": 0.2', '"start": NaN'),
    "word end of 400 digits": ('"end": 0.15', f'"end": {FOUR_HUNDRED_DIGITS}'),
    "transcript time 1e300": ('"start": 0.0, "is_final"', '"start": 1e300, "is_final"'),
    "transcript time 1e400": ('"duration": 2.3', '"duration": 1e400'),
    "NUL in the transcript": ('"transcript": "Paris at"', '"transcript": "Paris\\u0000at"'),
    "lone surrogate in a word": ('"punctuated_word": "at"', '"punctuated_word": "a\\ud800"'),
}


@pytest.mark.parametrize("edit", HOSTILE_RESULTS.values(), ids=HOSTILE_RESULTS.keys())
async def test_a_transcript_value_no_response_can_hold_is_a_bad_provider_response(
    edit: tuple[str, str],
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams["deepgram"]
    assert isinstance(upstream.server, DeepgramServer)
    upstream.server.behaviour = "edited_results"
    upstream.server.results_edit = edit
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: speech.transcribe(metadata=service.auth()), lambda: audio_stream(upstream)
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, raised.value.details()
    info = error_info(raised.value)
    assert info["reason"] == "PROVIDER_BAD_RESPONSE"
    assert info["provider"] == "deepgram"


@pytest.mark.parametrize("behaviour", ["huge_alignment", "nul_alignment"])
async def test_an_alignment_no_response_can_hold_is_a_bad_provider_response(
    behaviour: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams["elevenlabs"]
    upstream.server.behaviour = behaviour
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: speech.synthesize_stream(metadata=service.auth()),
            lambda: text_stream(upstream),
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, raised.value.details()
    info = error_info(raised.value)
    assert info["reason"] == "PROVIDER_BAD_RESPONSE"
    assert info["provider"] == "elevenlabs"
