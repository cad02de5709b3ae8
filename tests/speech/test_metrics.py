"""Speech sessions on /metrics: open sessions, outcomes, time to the first transcript and to the
first audio byte, and the seconds of audio moved, through the real service and replay servers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from integration_api_proto.integration.v1 import SynthesizeRequest, TranscribeRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.speech_servers import AUDIO
from tests.speech.conftest import SpeechUpstream, exchange, exchange_ending_early, tone
from tests.speech.test_conformance import (
    audio_stream,
    synthesis_config,
    text_stream,
    transcribe_config,
)
from tests.support.service import RunningService

BYTES_PER_SECOND = 2 * 16000  # linear16 at 16 kHz, as the tests ask for


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"integration_api_speech_{name}", labels) or 0.0


def figures(provider: str, operation: str) -> dict[str, float]:
    on = {"provider": provider, "operation": operation}
    return {
        "open": sample("sessions_open", **on),
        "ok": sample("sessions_total", **on, outcome="ok"),
        "unavailable": sample("sessions_total", **on, outcome="unavailable"),
        "first_transcript": sample("time_to_first_transcript_seconds_count", provider=provider),
        "first_audio": sample("time_to_first_audio_byte_seconds_count", **on),
        "in": sample("audio_seconds_total", provider=provider, direction="in"),
        "out": sample("audio_seconds_total", provider=provider, direction="out"),
    }


async def settled(provider: str, operation: str) -> dict[str, float]:
    """The figures once no session of an earlier test is still winding down (all closed)."""
    for _ in range(200):
        found = figures(provider, operation)
        if found["open"] == 0:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"{provider} {operation} sessions stay open after their calls ended")


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: round(after[name] - before[name], 6) for name in before}


async def test_a_transcription_counts_its_session_first_transcript_and_audio_seconds_in(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["deepgram"]
    before = await settled("deepgram", "transcribe")
    call = speech.transcribe(metadata=service.auth())
    await call.write(transcribe_config(upstream))
    for frame in tone(0.2):
        await call.write(TranscribeRequest(audio=frame))
    await call.read()  # the first transcript: the session is open
    assert moved(before, figures("deepgram", "transcribe"))["open"] == 1
    await call.done_writing()
    while await call.read() is not grpc.aio.EOF:
        pass
    assert moved(before, figures("deepgram", "transcribe")) == {
        **dict.fromkeys(before, 0.0),
        "ok": 1,
        "first_transcript": 1,
        "in": 0.2,
    }


async def test_a_streamed_synthesis_counts_its_first_audio_byte_and_audio_seconds_out(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["cartesia"]
    before = await settled("cartesia", "synthesize_stream")
    responses = await exchange(
        speech.synthesize_stream(metadata=service.auth()), text_stream(upstream)
    )
    spoken = sum(len(r.audio.data) for r in responses if r.audio)
    assert spoken and spoken % len(AUDIO) == 0
    assert moved(before, figures("cartesia", "synthesize_stream")) == {
        **dict.fromkeys(before, 0.0),
        "ok": 1,
        "first_audio": 1,
        "out": round(spoken / BYTES_PER_SECOND, 6),
    }


async def test_a_synthesis_counts_its_first_audio_byte_per_operation(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["elevenlabs"]
    before = await settled("elevenlabs", "synthesize")
    request = SynthesizeRequest(config=synthesis_config(upstream), text="Hello there.")
    responses = [r async for r in speech.synthesize(request, metadata=service.auth())]
    assert responses[-1].done is not None
    change = moved(before, figures("elevenlabs", "synthesize"))
    assert (change["ok"], change["first_audio"], change["open"]) == (1, 1, 0)
    assert change["out"] == round(3 * len(AUDIO) / BYTES_PER_SECOND, 6)


async def test_a_failed_session_is_counted_by_its_status_and_no_longer_open(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["deepgram"]
    upstream.server.behaviour = "drop"
    before = await settled("deepgram", "transcribe")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: speech.transcribe(metadata=service.auth()), lambda: audio_stream(upstream)
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    change = moved(before, figures("deepgram", "transcribe"))
    # At least one: a call whose write lost the race with the status is made again.
    assert change["unavailable"] >= 1
    assert (change["ok"], change["open"]) == (0, 0)


_WORKER = """
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from integration_api.speech.contract import AudioEncoding, AudioFormat
from integration_api.speech.metrics import TRANSCRIBE, SessionMetrics

def scrape():
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry).decode()

with SessionMetrics("deepgram", TRANSCRIBE, AudioFormat(AudioEncoding.LINEAR16, 16000)) as watch:
    watch.audio_in(16000)
    print(scrape(), "----")
    watch.completed()
print(scrape())
"""


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_speech_metrics_work_in_the_workers_multiprocess_mode(tmp_path: Path) -> None:
    """What `serve --workers` scrapes: samples a worker wrote to the shared directory."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", _WORKER], env=env, capture_output=True, text=True, check=True
    )
    during, after = (_samples(text) for text in result.stdout.split("----"))
    session = frozenset({"provider": "deepgram", "operation": "transcribe"}.items())
    ended = session | {("outcome", "ok")}
    audio = frozenset({"provider": "deepgram", "direction": "in"}.items())
    assert during[("integration_api_speech_sessions_open", session)] == 1
    assert after[("integration_api_speech_sessions_open", session)] == 0
    assert after[("integration_api_speech_sessions_total", ended)] == 1
    assert after[("integration_api_speech_audio_seconds_total", audio)] == 0.5
