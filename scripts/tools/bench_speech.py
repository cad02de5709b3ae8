"""The speech benchmark: Transcribe, Synthesize and SynthesizeStream, directly against a fake
Deepgram and through us.

Starts the fake Deepgram (`bench_speech_upstream.py`, its own process) and the service
(`bench_service.py`, on the fresh database the caller made), stores one Deepgram credential
whose `base_url` is the fake, then for each arrival mode and concurrency runs Transcribe
sessions (about a second of linear16 audio in 20 ms frames at real-time pace; first frame to
first transcript), Synthesize calls and SynthesizeStream sessions (1 s of audio in ten chunks
50 ms apart; start to first audio byte), directly and through the service, in alternating rounds
so that drift in the machine affects both alike. Arrivals `spread`: the sessions of a round
start spread over one session's length, as independent callers' do; `lockstep`: all at once,
and paced alike they stay in step. Then measures Synthesize's CPU in the service before its
first audio byte, one call at a time. Prints one table per mode and the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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
    SynthesizeStreamRequest,
    TranscribeRequest,
    TranscriptionConfig,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from scripts.tools.bench_load import Call, RoundResult, run_round
from scripts.tools.bench_processes import Child, RssSampler, child
from scripts.tools.bench_profile import record, summarize
from scripts.tools.bench_report import machine, percentile
from scripts.tools.bench_speech_load import (
    FRAME,
    SAMPLE_RATE_HZ,
    DirectSpeechClient,
    ServiceSpeechClient,
    audio_frames,
)
from scripts.tools.bench_speech_report import (
    FirstByteCpu,
    SpeechFigures,
    Usage,
    speech_figures,
    speech_table,
    speech_targets,
)

ROUNDS = 4
OPERATIONS = ("transcribe", "synthesize", "synthesize_stream")
ARRIVALS = ("spread", "lockstep")
# Two bytes per linear16 sample: what one second of the fake's synthesized audio weighs.
BYTES_PER_AUDIO_SECOND = SAMPLE_RATE_HZ * 2


@dataclass(frozen=True)
class SpeechPlan:
    concurrencies: list[int]
    audio_seconds: float
    transcribe_minimum_sessions: int
    synthesize_minimum_sessions: int
    speak_bytes: int
    # How long one synthesis lasts: its chunks' pacing.
    speak_seconds: float

    def sessions(self, operation: str, concurrency: int) -> int:
        minimum = self.transcribe_minimum_sessions
        per_worker = 4
        if operation != "transcribe":
            minimum, per_worker = self.synthesize_minimum_sessions, 12
        total = max(minimum, concurrency * per_worker, ROUNDS * concurrency)
        return total - total % ROUNDS

    def audio_seconds_of(self, operation: str, sessions: int) -> float:
        if operation == "transcribe":
            return sessions * audio_frames(self.audio_seconds) * len(FRAME) / (2 * SAMPLE_RATE_HZ)
        return sessions * self.speak_bytes / BYTES_PER_AUDIO_SECOND

    def spread_seconds(self, operation: str, arrivals: str) -> float:
        """Over how long a round's first sessions start: one session's length, or at once."""
        if arrivals == "lockstep":
            return 0.0
        return self.audio_seconds if operation == "transcribe" else self.speak_seconds


@dataclass(frozen=True)
class SpeechSetup:
    upstream: Child
    service: Child
    direct: DirectSpeechClient
    through_service: ServiceSpeechClient

    def calls(self, operation: str) -> tuple[Call, Call]:
        if operation == "transcribe":
            return self.direct.transcribe, self.through_service.transcribe
        if operation == "synthesize_stream":
            return self.direct.synthesize_stream, self.through_service.synthesize_stream
        return self.direct.synthesize, self.through_service.synthesize


async def level(
    setup: SpeechSetup, operation: str, concurrency: int, plan: SpeechPlan, arrivals: str
) -> SpeechFigures:
    """One concurrency level: warm up, then alternate direct and service rounds."""
    expected = 1 if operation == "transcribe" else plan.speak_bytes
    spread = plan.spread_seconds(operation, arrivals)
    direct_call, service_call = setup.calls(operation)
    await run_round(direct_call, concurrency, concurrency, expected, spread)
    await run_round(service_call, concurrency, concurrency, expected, spread)
    direct, service = RoundResult(), RoundResult()
    service_cpu = direct_client_cpu = 0.0
    upstream_cpu_before = setup.upstream.cpu_seconds()
    rss_before = setup.service.rss_mb()
    sampler = RssSampler(setup.service)
    sampler.start()
    per_round = plan.sessions(operation, concurrency) // ROUNDS
    for _ in range(ROUNDS):
        # The benchmark's own process is the direct client: its CPU is the provider side's
        # cost without the service, to set beside the service's.
        client_before = time.process_time()
        direct.merge(await run_round(direct_call, concurrency, per_round, expected, spread))
        direct_client_cpu += time.process_time() - client_before
        cpu_before = setup.service.precise_cpu_seconds()
        service.merge(await run_round(service_call, concurrency, per_round, expected, spread))
        service_cpu += setup.service.precise_cpu_seconds() - cpu_before
    await sampler.stop()
    usage = Usage(
        service_cpu_seconds=service_cpu,
        direct_client_cpu_seconds=direct_client_cpu,
        direct_audio_seconds=plan.audio_seconds_of(operation, direct.completed),
        upstream_cpu_seconds=setup.upstream.cpu_seconds() - upstream_cpu_before,
        audio_seconds=plan.audio_seconds_of(operation, service.completed),
        rss_before_mb=rss_before,
        peak_rss_mb=sampler.peak_mb,
    )
    return speech_figures(arrivals, operation, concurrency, direct, service, usage)


async def profile(
    setup: SpeechSetup, operation: str, plan: SpeechPlan, arguments: argparse.Namespace
) -> str:
    """py-spy the service while `operation` runs, `--profile-concurrency` sessions spread."""
    output = Path(f"{arguments.profile}-speech-{operation}.txt")
    expected = 1 if operation == "transcribe" else plan.speak_bytes
    spread = plan.spread_seconds(operation, "spread")
    call = setup.calls(operation)[1]
    seconds = arguments.profile_seconds
    recording = asyncio.get_running_loop().create_task(record(setup.service.pid, seconds, output))
    while not recording.done():
        concurrency = arguments.profile_concurrency
        await run_round(call, concurrency, concurrency, expected, spread)
    if not await recording:
        return "py-spy is not installed in the venv: no profile"
    return summarize(output)


async def cpu_to_first_byte(setup: SpeechSetup, calls: int) -> FirstByteCpu:
    """Synthesize's CPU in the service before its first audio byte, one call at a time."""
    spent = []
    for _ in range(calls):
        cpu = await setup.through_service.synthesize_cpu_to_first_byte(
            setup.service.precise_cpu_seconds
        )
        spent.append(cpu)
    return FirstByteCpu(
        calls=calls,
        p50_ms=round(percentile(spent, 0.5) * 1000, 3),
        p90_ms=round(percentile(spent, 0.9) * 1000, 3),
    )


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
    stream_config = SynthesizeStreamRequest(
        config=SynthesisConfig(credential_id=credential_id, audio=audio)
    )
    return ServiceSpeechClient(
        channel,
        metadata,
        bytes(TranscribeRequest(config=config)),
        bytes(TranscribeRequest(audio=FRAME)),
        audio_frames(plan.audio_seconds),
        bytes(synthesize),
        (bytes(stream_config), bytes(SynthesizeStreamRequest(text=SPEAK_TEXT))),
    )


SPEAK_TEXT = "Paris in spring, at a moment's notice."


async def measure(
    dsn: str, upstream: Child, plan: SpeechPlan, arguments: argparse.Namespace
) -> tuple[list[SpeechFigures], FirstByteCpu]:
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    service_arguments = ["--dsn", dsn, "--log-level", arguments.log_level]
    if arguments.gc_report:
        service_arguments += ["--gc-report", f"{arguments.gc_report}-speech.json"]
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
                if arguments.profile:
                    for operation in arguments.speech_operations.split(","):
                        summary = await profile(setup, operation, plan, arguments)
                        print(f"profile of {operation}:\n{summary}", file=sys.stderr)
                rows = []
                for arrivals in arguments.speech_arrivals.split(","):
                    for operation in arguments.speech_operations.split(","):
                        for concurrency in plan.concurrencies:
                            row = await level(setup, operation, concurrency, plan, arrivals)
                            print(f"  {row.as_dict()}", file=sys.stderr)
                            rows.append(row)
                first_byte = await cpu_to_first_byte(setup, arguments.first_byte_calls)
                print(f"  {first_byte}", file=sys.stderr)
                return rows, first_byte
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
        speak_seconds=arguments.speak_chunks * arguments.speak_inter_delay_ms / 1000,
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
        rows, first_byte = await measure(dsn, upstream, plan, arguments)
    print(f"# integration-api speech benchmark, {started}\n\n{machine()}\n")
    for arrivals in dict.fromkeys(row.arrivals for row in rows):
        selected = [row for row in rows if row.arrivals == arrivals]
        title = f"## Speech, {arrivals} arrivals: Deepgram, live transcription and synthesis"
        print(f"{title}\n\n{speech_table(selected)}\n")
    print(f"## Speech targets\n\n{speech_targets(rows, first_byte)}\n")
    return rows


def add_speech_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speech-concurrency", default="1,32", help="speech levels")
    parser.add_argument(
        "--speech-arrivals",
        default=",".join(ARRIVALS),
        help="spread (over a session's length), lockstep (all at once), or both",
    )
    parser.add_argument("--speech-operations", default=",".join(OPERATIONS), help="comma-separated")
    parser.add_argument(
        "--first-byte-calls",
        type=int,
        default=24,
        help="Synthesize calls, one at a time, measuring the service's CPU to the first byte",
    )
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
