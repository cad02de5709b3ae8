"""Speech through a route skips a target its credential's gate refuses, without opening a
session with its provider: one at its requests-per-minute limit (SKIPPED_RATE_LIMITED) or with
its breaker open (SKIPPED_BREAKER_OPEN); the next target answers. A service with the gate on,
over Redis; the routes and fakes of `test_routes`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from integration_api_proto.integration.v1 import (
    AttemptOutcome,
    CredentialConfig,
    CredentialLimits,
    UpdateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, SpeechServiceStub

from integration_api.config import CallGateSettings
from integration_api.config.speech_limits import SpeechLimits
from tests.fakes.speech_servers import AUDIO, TRANSCRIPT
from tests.speech.conftest import KEEPALIVE_SECONDS, exchange, tone
from tests.speech.test_routes import (
    Upstreams,
    audio_requests,
    outcomes,
    received_audio,
    report_of,
    synthesize,
    targets,
)
from tests.support.service import RunningService, gated_service

GATE = CallGateSettings(breaker_failures=2, breaker_open_seconds=30)


@pytest.fixture(scope="module")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    limits = SpeechLimits(keepalive_seconds=KEEPALIVE_SECONDS, max_audio_bytes=2_000_000)
    async with gated_service(package_database_dsn, GATE, speech=limits) as running:
        yield running


async def limit(targets: Upstreams, name: str, requests_per_minute: int) -> None:
    config = CredentialConfig(
        base_url=targets.first.base_url if name == "first" else targets.second.base_url,
        limits=CredentialLimits(requests_per_minute=requests_per_minute),
    )
    await CredentialServiceStub(targets.service.channel).update_credential(
        UpdateCredentialRequest(id=targets.credentials[name], config=config),
        metadata=targets.service.auth(),
    )


def audio_of(responses: list[Any]) -> bytes:
    return b"".join(r.audio.data for r in responses if r.audio)


def first_skipped(responses: list[Any], outcome: AttemptOutcome, reason: str) -> None:
    """The route skipped its first target with this outcome and reason; the second answered."""
    report = report_of(responses)
    assert outcomes(report) == [(0, outcome), (1, AttemptOutcome.ANSWERED)]
    assert report.attempts[0].reason == reason
    assert report.answered_by == 1


async def test_synthesis_skips_a_target_at_its_requests_per_minute_without_a_call(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    await limit(targets, "first", requests_per_minute=1)
    route_id = await targets.two_deepgrams()
    first = await synthesize(speech, service, route_id)
    assert report_of(first).answered_by == 0
    sessions = len(targets.first.sessions)

    for _ in range(2):
        responses = await synthesize(speech, service, route_id)
        assert audio_of(responses) == AUDIO * 3
        first_skipped(responses, AttemptOutcome.SKIPPED_RATE_LIMITED, "CREDENTIAL_RATE_LIMITED")
    assert len(targets.first.sessions) == sessions


async def test_transcription_skips_a_target_at_its_requests_per_minute_without_a_call(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    await limit(targets, "first", requests_per_minute=1)
    route_id = await targets.two_deepgrams()
    first = await synthesize(speech, service, route_id)
    assert report_of(first).answered_by == 0
    sessions = len(targets.first.sessions)

    frames = tone(0.3)
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, audio_requests(route_id, frames))
    finals = [r.transcript.text for r in responses if r.transcript and r.transcript.is_final]
    assert finals == [TRANSCRIPT]
    first_skipped(responses, AttemptOutcome.SKIPPED_RATE_LIMITED, "CREDENTIAL_RATE_LIMITED")
    assert received_audio(targets.second) == b"".join(frames)
    assert len(targets.first.sessions) == sessions


async def test_synthesis_skips_a_target_whose_breaker_is_open_without_a_call(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    route_id = await targets.two_deepgrams()
    targets.first.behaviour = "overloaded"
    for _ in range(GATE.breaker_failures):
        responses = await synthesize(speech, service, route_id)
        assert outcomes(report_of(responses)) == [
            (0, AttemptOutcome.PROVIDER_ERROR),
            (1, AttemptOutcome.ANSWERED),
        ]
    targets.first.behaviour = "normal"
    sessions = len(targets.first.sessions)

    for _ in range(2):
        responses = await synthesize(speech, service, route_id)
        assert audio_of(responses) == AUDIO * 3
        first_skipped(responses, AttemptOutcome.SKIPPED_BREAKER_OPEN, "CIRCUIT_OPEN")
    assert len(targets.first.sessions) == sessions


__all__ = ["targets"]
