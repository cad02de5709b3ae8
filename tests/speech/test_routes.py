"""Speech through a route: Transcribe, Synthesize and SynthesizeStream move on from a target that
fails before the first transcript or audio byte — never after — replaying what the caller sent,
and say in their last message which target answered and how every attempt went."""

from __future__ import annotations

import asyncio
import datetime
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AttemptOutcome,
    AudioEncoding,
    AudioFormat,
    CreateCredentialRequest,
    CreateRouteRequest,
    CredentialConfig,
    CredentialSecret,
    FinalizeAudio,
    FlushText,
    RoutePolicy,
    RouteReport,
    RouteTarget,
    SynthesisConfig,
    SynthesizeRequest,
    SynthesizeStreamRequest,
    TranscribeRequest,
    TranscriptionConfig,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    RouteServiceStub,
    SpeechServiceStub,
)
from prometheus_client import REGISTRY

from integration_api.routes.speech import REPLAY_AUDIO_BYTES
from tests.fakes.speech_servers import AUDIO, TRANSCRIPT, DeepgramServer, ElevenLabsServer
from tests.speech.conftest import KEYS, exchange, exchange_ending_early, tone
from tests.speech.test_conformance import kinds
from tests.speech.test_failures import error_info
from tests.support.service import RunningService

DEEPGRAM_VOICE = "aura-2-thalia-en"
RATE = 16000


class Upstreams:
    """Two Deepgram servers and an ElevenLabs one, each behind a stored credential."""

    def __init__(self, service: RunningService, **tenant: str) -> None:
        self.service = service
        # Whose credentials and routes these are (the default test tenant unless given).
        self.tenant = tenant
        self.first = DeepgramServer()
        self.second = DeepgramServer()
        self.eleven = ElevenLabsServer()
        self.credentials: dict[str, str] = {}

    async def start(self, stack: AsyncExitStack) -> None:
        for name, server, provider in (
            ("first", self.first, "deepgram"),
            ("second", self.second, "deepgram"),
            ("eleven", self.eleven, "elevenlabs"),
        ):
            await stack.enter_async_context(server)
            self.credentials[name] = await self._credential(provider, server.base_url)

    async def _credential(self, provider: str, base_url: str) -> str:
        reply = await CredentialServiceStub(self.service.channel).create_credential(
            CreateCredentialRequest(
                provider=provider,
                name=f"{provider} route target {secrets.token_hex(4)}",
                secret=CredentialSecret(api_key=ApiKeySecret(key=KEYS[provider])),
                config=CredentialConfig(base_url=base_url),
                skip_verification=True,
            ),
            metadata=self.service.auth(**self.tenant),
        )
        assert reply.credential is not None
        return reply.credential.id

    async def route(
        self,
        *targets: RouteTarget,
        first_token_timeout: float | None = None,
        policy: RoutePolicy = RoutePolicy.FAILOVER,
    ) -> str:
        timeout = datetime.timedelta(seconds=first_token_timeout) if first_token_timeout else None
        reply = await RouteServiceStub(self.service.channel).create_route(
            CreateRouteRequest(
                name=f"speech {secrets.token_hex(4)}",
                policy=policy,
                targets=list(targets),
                first_token_timeout=timeout,
            ),
            metadata=self.service.auth(**self.tenant),
        )
        assert reply.route is not None
        return reply.route.id

    def target(self, name: str, **fields: Any) -> RouteTarget:
        return RouteTarget(credential_id=self.credentials[name], **fields)

    async def two_deepgrams(self, first_token_timeout: float | None = None) -> str:
        return await self.route(
            self.target("first"), self.target("second"), first_token_timeout=first_token_timeout
        )


@pytest.fixture
async def targets(service: RunningService) -> AsyncIterator[Upstreams]:
    async with AsyncExitStack() as stack:
        found = Upstreams(service)
        await found.start(stack)
        yield found


@pytest.fixture
def speech(service: RunningService) -> SpeechServiceStub:
    return SpeechServiceStub(service.channel)


def linear16() -> AudioFormat:
    return AudioFormat(encoding=AudioEncoding.LINEAR16, sample_rate_hz=RATE)


def synthesis(route_id: str, voice: str = DEEPGRAM_VOICE) -> SynthesisConfig:
    return SynthesisConfig(route_id=route_id, voice=voice, audio=linear16())


async def synthesize(
    speech: SpeechServiceStub, service: RunningService, route_id: str, text: str = "Hello there."
) -> list[Any]:
    request = SynthesizeRequest(config=synthesis(route_id), text=text)
    return [r async for r in speech.synthesize(request, metadata=service.auth())]


async def audio_requests(
    route_id: str,
    frames: list[bytes],
    *,
    finalize: bool = False,
    after: tuple[int, Callable[[], Awaitable[None]]] | None = None,
) -> AsyncIterator[TranscribeRequest]:
    """The configuration, then `frames` paced like a live line; `after` = (n, act): `act` runs
    once n frames were sent."""
    config = TranscriptionConfig(route_id=route_id, audio=linear16(), interim_results=True)
    yield TranscribeRequest(config=config)
    for index, frame in enumerate(frames):
        yield TranscribeRequest(audio=frame)
        await asyncio.sleep(0.002)
        if after is not None and index + 1 == after[0]:
            await after[1]()
    if finalize:
        yield TranscribeRequest(finalize=FinalizeAudio())


def received_audio(server: DeepgramServer) -> bytes:
    return b"".join(
        frame for session in server.sessions for frame in session.frames if isinstance(frame, bytes)
    )


def report_of(responses: list[Any]) -> RouteReport:
    last = responses[-1]
    end = last.done if hasattr(last, "done") and last.done is not None else last.metadata
    assert end is not None and isinstance(end.route, RouteReport)
    return end.route


def outcomes(report: RouteReport) -> list[tuple[int, AttemptOutcome]]:
    return [(attempt.target_index, attempt.outcome) for attempt in report.attempts]


# ---- Synthesize ----------------------------------------------------------------------------


async def test_synthesis_through_a_healthy_route_reports_its_one_attempt(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    route_id = await targets.two_deepgrams()
    responses = await synthesize(speech, service, route_id)
    assert kinds(responses)[-1] == "done"
    assert b"".join(r.audio.data for r in responses if r.audio) == AUDIO * 3
    report = report_of(responses)
    assert report.route_id == route_id and report.answered and report.answered_by == 0
    (attempt,) = report.attempts
    assert attempt.outcome == AttemptOutcome.ANSWERED
    assert attempt.credential_id == targets.credentials["first"]
    assert attempt.provider == "deepgram"
    assert not targets.second.sessions


@pytest.mark.parametrize(
    ("behaviour", "outcome", "reason"),
    [
        ("rate_limited", AttemptOutcome.RATE_LIMITED, "RATE_LIMITED"),
        ("overloaded", AttemptOutcome.PROVIDER_ERROR, "UPSTREAM_UNAVAILABLE"),
        ("drop_at_once", AttemptOutcome.UNREACHABLE, "UPSTREAM_UNAVAILABLE"),
        ("slow", AttemptOutcome.FIRST_TOKEN_TIMEOUT, "ROUTE_FIRST_TOKEN_TIMEOUT"),
    ],
)
async def test_synthesis_moves_on_from_a_failing_first_target(
    behaviour: str,
    outcome: AttemptOutcome,
    reason: str,
    speech: SpeechServiceStub,
    service: RunningService,
    targets: Upstreams,
) -> None:
    targets.first.behaviour = behaviour
    targets.first.slow_seconds = 5.0
    route_id = await targets.two_deepgrams(first_token_timeout=0.3)
    responses = await synthesize(speech, service, route_id)
    # The second target's audio only: never a byte of the first spliced in.
    assert b"".join(r.audio.data for r in responses if r.audio) == AUDIO * 3
    report = report_of(responses)
    assert outcomes(report) == [(0, outcome), (1, AttemptOutcome.ANSWERED)]
    assert report.attempts[0].reason == reason and report.answered_by == 1
    assert responses[-1].done.provider == "deepgram"


async def test_synthesis_moves_on_from_a_killed_target(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    await targets.first.kill()
    responses = await synthesize(speech, service, await targets.two_deepgrams())
    assert outcomes(report_of(responses)) == [
        (0, AttemptOutcome.UNREACHABLE),
        (1, AttemptOutcome.ANSWERED),
    ]


async def test_a_run_of_syntheses_has_no_failed_call_when_its_first_target_dies_midway(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    route_id = await targets.two_deepgrams(first_token_timeout=1.5)
    answered_by = []
    for call in range(8):
        if call == 4:
            await targets.first.kill()
        responses = await synthesize(speech, service, route_id)
        assert b"".join(r.audio.data for r in responses if r.audio) == AUDIO * 3
        answered_by.append(report_of(responses).answered_by)
    assert answered_by == [0, 0, 0, 0, 1, 1, 1, 1]


async def test_the_target_voice_and_model_are_used(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "overloaded"
    route_id = await targets.route(
        targets.target("first"),
        targets.target("eleven", voice="route-voice-7", model="eleven_route_model"),
    )
    responses = await synthesize(speech, service, route_id)
    assert report_of(responses).attempts[1].model == "eleven_route_model"
    assert responses[-1].done.provider == "elevenlabs"
    (session,) = targets.eleven.sessions
    assert session.path == "/v1/text-to-speech/route-voice-7/stream"
    assert json.loads(session.frames[0])["model_id"] == "eleven_route_model"


async def test_the_last_target_failing_ends_the_call_with_its_error(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "overloaded"
    targets.second.behaviour = "rate_limited"
    route_id = await targets.two_deepgrams()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await synthesize(speech, service, route_id)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(raised.value)
    assert info["route_id"] == route_id
    assert info["route_attempts"] == "0:provider_error,1:rate_limited"


async def test_an_invalid_argument_never_moves_on(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    route_id = await targets.two_deepgrams()
    config = SynthesisConfig(
        route_id=route_id,
        voice=DEEPGRAM_VOICE,
        audio=AudioFormat(encoding=AudioEncoding.LINEAR16, sample_rate_hz=11025),
    )
    request = SynthesizeRequest(config=config, text="Hello there.")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        _ = [r async for r in speech.synthesize(request, metadata=service.auth())]
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not targets.first.sessions and not targets.second.sessions


async def test_a_refused_key_moves_on(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "unauthorized"
    route_id = await targets.two_deepgrams()
    frames = tone(0.2)
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, audio_requests(route_id, frames))
    report = report_of(responses)
    assert outcomes(report) == [(0, AttemptOutcome.KEY_REFUSED), (1, AttemptOutcome.ANSWERED)]
    assert report.attempts[0].reason == "CREDENTIAL_REJECTED"
    # The provider's refusal quoted the key; nothing of it reaches the caller.
    assert KEYS["deepgram"] not in str(responses)


# ---- Transcribe ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "outcome"),
    [
        ("rate_limited", AttemptOutcome.RATE_LIMITED),
        ("overloaded", AttemptOutcome.PROVIDER_ERROR),
        ("drop_at_once", AttemptOutcome.PROVIDER_ERROR),
        ("slow", AttemptOutcome.FIRST_TOKEN_TIMEOUT),
    ],
)
async def test_transcription_moves_on_and_replays_the_audio(
    behaviour: str,
    outcome: AttemptOutcome,
    speech: SpeechServiceStub,
    service: RunningService,
    targets: Upstreams,
) -> None:
    targets.first.behaviour = behaviour
    targets.first.slow_seconds = 5.0
    route_id = await targets.two_deepgrams(first_token_timeout=0.3)
    frames = tone(0.3)
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, audio_requests(route_id, frames))
    finals = [r.transcript.text for r in responses if r.transcript and r.transcript.is_final]
    assert finals == [TRANSCRIPT]
    assert outcomes(report_of(responses)) == [(0, outcome), (1, AttemptOutcome.ANSWERED)]
    # Every byte the caller sent reached the target that answered, once and in order.
    assert received_audio(targets.second) == b"".join(frames)
    assert kinds(responses).count("speech_started") == 1


async def test_transcription_survives_its_target_killed_mid_call(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "slow"  # holds its results: nothing reached the caller yet
    targets.first.slow_seconds = 30.0
    route_id = await targets.two_deepgrams()
    frames = tone(0.4)
    call = speech.transcribe(metadata=service.auth())
    requests = audio_requests(route_id, frames, after=(8, targets.first.kill))
    responses = await exchange(call, requests)
    assert kinds(responses)[-1] == "metadata"
    assert received_audio(targets.second) == b"".join(frames)
    assert report_of(responses).answered_by == 1


async def test_speech_started_of_a_failed_target_is_not_repeated(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "started_then_drop"
    route_id = await targets.two_deepgrams()
    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, audio_requests(route_id, tone(0.2)))
    found = kinds(responses)
    assert found[0] == "speech_started" and found.count("speech_started") == 1
    assert found[-1] == "metadata"


async def test_no_failover_after_the_first_transcript(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "drop"  # an interim transcript, then the connection is gone
    route_id = await targets.two_deepgrams()
    # The service ends the call while the caller is still sending audio: a write that races its
    # status is the client's own INTERNAL, so such a call is made again.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: speech.transcribe(metadata=service.auth()),
            lambda: audio_requests(route_id, tone(0.2)),
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(raised.value)["route_attempts"] == "0:failed"
    assert not targets.second.sessions


async def test_no_failover_past_the_replay_bound(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "slow"
    targets.first.slow_seconds = 30.0
    route_id = await targets.two_deepgrams()
    frames = tone(0.1) * 4
    frame = b"".join(frames)
    count = REPLAY_AUDIO_BYTES // len(frame) + 2
    call = speech.transcribe(metadata=service.auth())
    requests = audio_requests(route_id, [frame] * count, after=(count, targets.first.kill))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange(call, requests)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert not targets.second.sessions


async def test_a_transcriptions_deadline_runs_from_when_an_answer_is_owed(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    """A caller silent for longer than the deadline is not a provider failing to answer: the
    deadline starts at the caller's finalize or end of audio."""
    targets.first.behaviour = "silent"  # no results until the end of the audio
    route_id = await targets.two_deepgrams(first_token_timeout=0.2)
    call = speech.transcribe(metadata=service.auth())
    pause = (3, lambda: asyncio.sleep(0.6))
    responses = await exchange(call, audio_requests(route_id, tone(0.2), after=pause))
    assert outcomes(report_of(responses)) == [(0, AttemptOutcome.ANSWERED)]
    assert not targets.second.sessions


# ---- SynthesizeStream ----------------------------------------------------------------------


async def test_streaming_synthesis_replays_the_text_to_the_next_target(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "drop_at_once"
    route_id = await targets.two_deepgrams()

    async def requests() -> AsyncIterator[SynthesizeStreamRequest]:
        yield SynthesizeStreamRequest(config=synthesis(route_id))
        yield SynthesizeStreamRequest(text="Hello ")
        yield SynthesizeStreamRequest(text="there.")
        yield SynthesizeStreamRequest(flush=FlushText())

    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, requests())
    assert kinds(responses)[-1] == "done" and "flushed" in kinds(responses)
    assert outcomes(report_of(responses))[-1] == (1, AttemptOutcome.ANSWERED)
    spoken = [t["text"] for t in targets.second.sessions[0].texts() if t.get("type") == "Speak"]
    assert "".join(spoken) == "Hello there."


async def test_streaming_synthesis_deadline_runs_from_the_flush(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    """Text trickling in slower than the deadline is no failure; audio owed after a flush is."""
    targets.first.behaviour = "slow"
    targets.first.slow_seconds = 5.0
    route_id = await targets.two_deepgrams(first_token_timeout=0.3)

    async def requests() -> AsyncIterator[SynthesizeStreamRequest]:
        yield SynthesizeStreamRequest(config=synthesis(route_id))
        await asyncio.sleep(0.5)  # the LLM is thinking
        yield SynthesizeStreamRequest(text="Hello there.")
        yield SynthesizeStreamRequest(flush=FlushText())

    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, requests())
    report = report_of(responses)
    assert outcomes(report) == [
        (0, AttemptOutcome.FIRST_TOKEN_TIMEOUT),
        (1, AttemptOutcome.ANSWERED),
    ]
    # Counted from the flush, not from the start: the half second of thinking, then the deadline.
    assert report.attempts[0].duration.total_seconds() >= 0.75


async def test_a_finalize_starts_the_transcription_deadline(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "silent"  # never answers a finalize: only the end of the audio
    route_id = await targets.two_deepgrams(first_token_timeout=0.3)
    frames = tone(0.2)

    async def requests() -> AsyncIterator[TranscribeRequest]:
        async for request in audio_requests(route_id, frames, finalize=True):
            yield request
        await asyncio.sleep(1.0)  # the caller's line stays open after its end of turn

    call = speech.transcribe(metadata=service.auth())
    responses = await exchange(call, requests())
    report = report_of(responses)
    assert outcomes(report) == [
        (0, AttemptOutcome.FIRST_TOKEN_TIMEOUT),
        (1, AttemptOutcome.ANSWERED),
    ]
    # Moved on while the caller's line was still open: the finalize started the deadline.
    assert report.attempts[0].duration.total_seconds() < 0.9
    assert received_audio(targets.second) == b"".join(frames)


# ---- the request ---------------------------------------------------------------------------


async def test_a_route_and_a_credential_together_are_refused(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    route_id = await targets.two_deepgrams()
    config = synthesis(route_id)
    config.credential_id = targets.credentials["first"]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        request = SynthesizeRequest(config=config, text="Hello.")
        _ = [r async for r in speech.synthesize(request, metadata=service.auth())]
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "config.route_id" in (raised.value.details() or "")


async def test_another_tenants_route_is_not_found(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    route_id = await targets.two_deepgrams()
    request = SynthesizeRequest(config=synthesis(route_id), text="Hello.")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        _ = [
            r
            async for r in speech.synthesize(
                request, metadata=service.auth(project_id="project-other")
            )
        ]
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(raised.value)["reason"] == "ROUTE_NOT_FOUND"
    assert not targets.first.sessions


# ---- metrics and the caller going away ------------------------------------------------------


def route_sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"integration_api_route_{name}", labels) or 0.0


async def test_attempts_and_failovers_are_counted_per_route_and_target(
    speech: SpeechServiceStub, service: RunningService
) -> None:
    # A tenant of its own: the route label names only a tenant's first 32 routes called through,
    # chat's and speech's alike, and the default tenant's may be spent by other tests.
    tenant = {"project_id": "project-speech-route-metrics"}
    async with AsyncExitStack() as stack:
        targets = Upstreams(service, **tenant)
        await targets.start(stack)
        targets.first.behaviour = "rate_limited"
        route_id = await targets.two_deepgrams()
        request = SynthesizeRequest(config=synthesis(route_id), text="Hello there.")
        for _ in range(2):
            assert [r async for r in speech.synthesize(request, metadata=service.auth(**tenant))]
    on = {"route": route_id, "operation": "synthesize"}
    assert route_sample("attempts_total", **on, target="0", outcome="rate_limited") == 2
    assert route_sample("attempts_total", **on, target="1", outcome="answered") == 2
    assert route_sample("failovers_total", **on, target="0") == 2
    assert route_sample("failovers_total", **on, target="1") == 0
    # Counted with chat's, told apart by the operation: speech has no counters of its own.
    assert not [m for m in REGISTRY.collect() if m.name.startswith("integration_api_speech_route")]


async def test_a_caller_cancelling_ends_the_answering_targets_session(
    speech: SpeechServiceStub, service: RunningService, targets: Upstreams
) -> None:
    targets.first.behaviour = "overloaded"
    route_id = await targets.two_deepgrams()
    call = speech.transcribe(metadata=service.auth())
    await call.write(
        TranscribeRequest(config=TranscriptionConfig(route_id=route_id, audio=linear16()))
    )
    for frame in tone(0.1):
        await call.write(TranscribeRequest(audio=frame))
    first = await call.read()
    assert first is not grpc.aio.EOF
    call.cancel()
    (session,) = targets.second.sessions
    assert await session.closed()
