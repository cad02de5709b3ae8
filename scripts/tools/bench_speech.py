"""The speech benchmark: Transcribe and Synthesize, directly against a fake Deepgram and through us.

Starts the fake Deepgram (`bench_speech_upstream.py`) and the service (`bench_service.py`, on
the fresh database the caller made), stores one Deepgram credential whose `base_url` is the
fake, then for each concurrency runs Transcribe sessions (about a second of linear16 audio in
20 ms frames at real-time pace; first frame to first transcript) and Synthesize calls (1 s of
audio in ten chunks 50 ms apart; start to first audio byte), directly and through the service,
in alternating rounds so that drift in the machine affects both alike. Prints one table and the
5 ms p50 overhead target at 32 sessions.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import grpc.aio
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AudioEncoding,
    AudioFormat,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    SynthesisConfig,
    SynthesizeRequest,
    TranscribeRequest,
    TranscriptionConfig,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from scripts.tools.bench_load import Call, RoundResult, run_round
from scripts.tools.bench_processes import Child, RssSampler, child
from scripts.tools.bench_report import machine
from scripts.tools.bench_speech_load import (
    FRAME,
    SAMPLE_RATE_HZ,
    DirectSpeechClient,
    ServiceSpeechClient,
    audio_frames,
)
from scripts.tools.bench_speech_report import (
    SpeechFigures,
    Usage,
    speech_figures,
    speech_table,
    speech_targets,
)

ROUNDS = 4
OPERATIONS = ("transcribe", "synthesize")
# Two bytes per linear16 sample: what one second of the fake's synthesized audio weighs.
BYTES_PER_AUDIO_SECOND = SAMPLE_RATE_HZ * 2


@dataclass(frozen=True)
class SpeechPlan:
    concurrencies: list[int]
    audio_seconds: float
    transcribe_minimum_sessions: int
    synthesize_minimum_sessions: int
    speak_bytes: int

    def sessions(self, operation: str, concurrency: int) -> int:
        minimum = self.transcribe_minimum_sessions
        per_worker = 4
        if operation == "synthesize":
            minimum, per_worker = self.synthesize_minimum_sessions, 12
        total = max(minimum, concurrency * per_worker, ROUNDS * concurrency)
        return total - total % ROUNDS

    def audio_seconds_of(self, operation: str, sessions: int) -> float:
        if operation == "transcribe":
            return sessions * audio_frames(self.audio_seconds) * len(FRAME) / (2 * SAMPLE_RATE_HZ)
        return sessions * self.speak_bytes / BYTES_PER_AUDIO_SECOND


@dataclass(frozen=True)
class SpeechSetup:
    upstream: Child
    service: Child
    direct: DirectSpeechClient
    through_service: ServiceSpeechClient

    def calls(self, operation: str) -> tuple[Call, Call]:
        if operation == "transcribe":
            return self.direct.transcribe, self.through_service.transcribe
        return self.direct.synthesize, self.through_service.synthesize


async def level(
    setup: SpeechSetup, operation: str, concurrency: int, plan: SpeechPlan
) -> SpeechFigures:
    """One concurrency level: warm up, then alternate direct and service rounds."""
    expected = 1 if operation == "transcribe" else plan.speak_bytes
    direct_call, service_call = setup.calls(operation)
    await run_round(direct_call, concurrency, concurrency, expected)
    await run_round(service_call, concurrency, concurrency, expected)
    direct, service = RoundResult(), RoundResult()
    service_cpu = 0.0
    upstream_cpu_before = setup.upstream.cpu_seconds()
    rss_before = setup.service.rss_mb()
    sampler = RssSampler(setup.service)
    sampler.start()
    per_round = plan.sessions(operation, concurrency) // ROUNDS
    for _ in range(ROUNDS):
        direct.merge(await run_round(direct_call, concurrency, per_round, expected))
        cpu_before = setup.service.cpu_seconds()
        service.merge(await run_round(service_call, concurrency, per_round, expected))
        service_cpu += setup.service.cpu_seconds() - cpu_before
    await sampler.stop()
    usage = Usage(
        service_cpu_seconds=service_cpu,
        upstream_cpu_seconds=setup.upstream.cpu_seconds() - upstream_cpu_before,
        audio_seconds=plan.audio_seconds_of(operation, service.completed),
        rss_before_mb=rss_before,
        peak_rss_mb=sampler.peak_mb,
    )
    return speech_figures(operation, concurrency, direct, service, usage)


async def _store_credential(
    channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...], base_url: str
) -> str:
    reply = await CredentialServiceStub(channel).create_credential(
        CreateCredentialRequest(
            provider="deepgram",
            name="bench-" + secrets.token_hex(4),
            secret=CredentialSecret(api_key=ApiKeySecret(key="dg-bench-" + secrets.token_hex(16))),
            config=CredentialConfig(base_url=base_url),
            skip_verification=True,
        ),
        metadata=metadata,
    )
    assert reply.credential is not None
    return reply.credential.id


def _service_client(
    channel: grpc.aio.Channel,
    metadata: tuple[tuple[str, str], ...],
    credential_id: str,
    plan: SpeechPlan,
) -> ServiceSpeechClient:
    audio = AudioFormat(encoding=AudioEncoding.LINEAR16, sample_rate_hz=SAMPLE_RATE_HZ)
    config = TranscriptionConfig(credential_id=credential_id, audio=audio)
    synthesize = SynthesizeRequest(
        config=SynthesisConfig(credential_id=credential_id, audio=audio), text=SPEAK_TEXT
    )
    return ServiceSpeechClient(
        channel,
        metadata,
        bytes(TranscribeRequest(config=config)),
        bytes(TranscribeRequest(audio=FRAME)),
        audio_frames(plan.audio_seconds),
        bytes(synthesize),
    )


SPEAK_TEXT = "Paris in spring, at a moment's notice."


async def measure(
    dsn: str, upstream: Child, plan: SpeechPlan, arguments: argparse.Namespace
) -> list[SpeechFigures]:
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    service_arguments = ["--dsn", dsn, "--log-level", arguments.log_level]
    token = mint_token(
        secret, organization_id="org-bench", project_id="project-bench", ttl=timedelta(hours=2)
    )
    metadata = (("authorization", f"Bearer {token}"),)
    base_url = f"http://127.0.0.1:{upstream.port}"
    async with child("bench_service.py", service_arguments, environment) as service:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                credential_id = await _store_credential(channel, metadata, base_url)
                headers = {"Authorization": "Token dg-bench"}
                direct = DirectSpeechClient(
                    session,
                    base_url,
                    headers,
                    audio_frames(plan.audio_seconds),
                    b'{"text": "' + SPEAK_TEXT.encode() + b'"}',
                )
                through_service = _service_client(channel, metadata, credential_id, plan)
                setup = SpeechSetup(upstream, service, direct, through_service)
                rows = []
                for operation in OPERATIONS:
                    for concurrency in plan.concurrencies:
                        row = await level(setup, operation, concurrency, plan)
                        print(f"  {operation} c={concurrency}: {row.as_dict()}", file=sys.stderr)
                        rows.append(row)
                return rows
        finally:
            await channel.close()


async def run_speech(dsn: str, arguments: argparse.Namespace) -> list[SpeechFigures]:
    """Every speech level against one fake Deepgram and one service; prints the report."""
    plan = SpeechPlan(
        concurrencies=[int(value) for value in arguments.speech_concurrency.split(",")],
        audio_seconds=arguments.audio_seconds,
        transcribe_minimum_sessions=arguments.transcribe_minimum_sessions,
        synthesize_minimum_sessions=arguments.synthesize_minimum_sessions,
        speak_bytes=arguments.speak_chunks * arguments.speak_chunk_bytes,
    )
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    upstream_arguments = [
        *("--transcript-after-frames", str(arguments.transcript_after_frames)),
        *("--speak-chunks", str(arguments.speak_chunks)),
        *("--speak-chunk-bytes", str(arguments.speak_chunk_bytes)),
        *("--speak-inter-delay-ms", str(arguments.speak_inter_delay_ms)),
    ]
    print("measuring speech against a fake Deepgram", file=sys.stderr)
    async with child("bench_speech_upstream.py", upstream_arguments, {}) as upstream:
        rows = await measure(dsn, upstream, plan, arguments)
    print(f"# integration-api speech benchmark, {started}\n\n{machine()}\n")
    print(f"## Speech: Deepgram, live transcription and synthesis\n\n{speech_table(rows)}\n")
    print(f"## Speech target\n\n{speech_targets(rows)}\n")
    return rows


def add_speech_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speech-concurrency", default="1,32", help="speech levels")
    parser.add_argument("--audio-seconds", type=float, default=1.0, help="per Transcribe")
    parser.add_argument(
        "--transcript-after-frames",
        type=int,
        default=25,
        help="the fake answers its final transcript after this many 20 ms frames",
    )
    parser.add_argument("--speak-chunks", type=int, default=10, help="audio chunks per Synthesize")
    parser.add_argument("--speak-chunk-bytes", type=int, default=3200)
    parser.add_argument(
        "--speak-inter-delay-ms",
        type=float,
        default=50.0,
        help="the fake's pause between audio chunks (0: the whole answer at once)",
    )
    parser.add_argument("--transcribe-minimum-sessions", type=int, default=24)
    parser.add_argument("--synthesize-minimum-sessions", type=int, default=48)
