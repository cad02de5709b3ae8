"""The benchmark: streaming chat and embeddings, directly against a fake upstream and through us.

Starts a fast fake OpenAI and Anthropic (`bench_upstream.py`) and the service
(`bench_service.py`, on a fresh database of the local PostgreSQL), stores one credential per
provider (`--providers`, see `bench_providers.py`) pointing at the fake, then for each
concurrency runs the same calls directly against the upstream and through the service, in
alternating rounds so drift in the machine affects both alike. It repeats everything for each
mode of the upstream (realistic: the first text after `--first-delay-ms`, then a chunk every
`--inter-delay-ms`; fast: the whole answer at once). Prints one table per mode, operation and
provider, the targets next to the figures (with `--floor`, the service's CPU per realistic
stream as a multiple of the floor's) and, with several providers, each one's service CPU per
chat stream next to OpenAI's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import aiohttp
import grpc.aio
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AwsSecret,
    ChatRequest,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    EmbedRequest,
    Message,
    Role,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from scripts.tools.bench_load import Call, DirectClient, RoundResult, ServiceClient, run_round
from scripts.tools.bench_processes import Child, RssSampler, child, fresh_database
from scripts.tools.bench_profile import record, summarize
from scripts.tools.bench_providers import PROVIDERS, BenchProvider
from scripts.tools.bench_report import (
    LevelFigures,
    cpu_comparison,
    figures,
    machine,
    stalls_table,
    table,
)
from scripts.tools.bench_speech import add_speech_options, run_speech
from scripts.tools.bench_stalls import read_samples, window_figures
from scripts.tools.bench_targets import FLOOR, fast_regressions, floor_cpu_ratio, targets_table

ROUNDS = 4
# The provider client's label in the figures: aiohttp, the only one since the httpx transport
# went away; kept in each row so that the JSON of earlier runs still compares (`--baseline`).
TRANSPORT = "aiohttp"


@dataclass(frozen=True)
class Plan:
    concurrencies: list[int]
    calls_per_worker: int
    minimum_calls: int
    # A realistic stream takes over half a second: at concurrency 1, 400 of them take minutes.
    realistic_minimum_calls: int
    chunks: int
    operations: list[str]
    providers: list[BenchProvider]

    # Seconds over which a round's calls start, by mode (0: all at once).
    spreads: dict[str, float]

    def calls(self, concurrency: int, mode: str) -> int:
        minimum = self.realistic_minimum_calls if mode == "realistic" else self.minimum_calls
        total = max(minimum, concurrency * self.calls_per_worker)
        return total - total % ROUNDS


@dataclass(frozen=True)
class Proxy:
    """A process the calls go through (the service, or the floor) and the client that calls it."""

    name: str
    process: Child
    client: ServiceClient
    # Where the process writes its loop lag and GC samples (None: not probed).
    stall_file: Path | None = None


@dataclass
class Setup:
    mode: str
    provider: BenchProvider
    upstream: Child
    service: Child
    direct: DirectClient
    through_service: ServiceClient
    # Where the serving process writes its loop lag and GC samples (None: not probed).
    stall_file: Path | None = None
    # The floor (`--floor`), measured in the same levels, its rounds between the service's.
    floor: Proxy | None = None

    def proxies(self, operation: str) -> list[Proxy]:
        proxies = [Proxy(self.provider.name, self.service, self.through_service, self.stall_file)]
        if self.floor is not None and operation == "chat":
            proxies.append(self.floor)
        return proxies


@dataclass
class ProxyRounds:
    """What one proxy's measured rounds of a level gathered."""

    proxy: Proxy
    result: RoundResult = field(default_factory=RoundResult)
    cpu_seconds: float = 0.0
    # The rounds on CLOCK_MONOTONIC, which the process stamps its stall samples with.
    windows: list[tuple[float, float]] = field(default_factory=list)


def _bench_secret(provider: BenchProvider) -> CredentialSecret:
    if provider.aws_keys:
        # Signed with SigV4 on every call, as AWS keys are: the signing is part of the cost.
        keys = AwsSecret(access_key_id="AKIABENCH", secret_access_key=secrets.token_hex(20))
        return CredentialSecret(aws=keys)
    return CredentialSecret(api_key=ApiKeySecret(key="sk-bench-" + secrets.token_hex(16)))


async def store_credential(
    channel: grpc.aio.Channel,
    metadata: Sequence[tuple[str, str]],
    provider: BenchProvider,
    base_url: str,
) -> str:
    reply = await CredentialServiceStub(channel).create_credential(
        CreateCredentialRequest(
            provider=provider.name,
            name="bench-" + secrets.token_hex(4),
            secret=_bench_secret(provider),
            config=CredentialConfig(
                base_url=base_url, default_model=provider.default_model, region=provider.region
            ),
            skip_verification=True,
        ),
        metadata=tuple(metadata),
    )
    assert reply.credential is not None
    return reply.credential.id


async def level(
    setup: Setup, operation: str, transport: str, concurrency: int, plan: Plan
) -> list[LevelFigures]:
    """One concurrency level: warm up, then rounds of direct calls and of calls through each
    proxy (the service, and the floor with `--floor`) in turn, so that drift in the machine
    weighs on all alike; one row per proxy."""
    expected = plan.chunks if operation == "chat" else 1
    direct_call = setup.direct.chat if operation == "chat" else setup.direct.embed
    rounds = [ProxyRounds(proxy) for proxy in setup.proxies(operation)]

    def call_of(proxy: Proxy) -> Call:
        return proxy.client.chat if operation == "chat" else proxy.client.embed

    # Spread out, streams overlap as independent callers' do; an embedding call is too short.
    spread = plan.spreads.get(setup.mode, 0.0) if operation == "chat" else 0.0
    await run_round(direct_call, concurrency, concurrency, expected, spread)
    for proxy_rounds in rounds:
        await run_round(call_of(proxy_rounds.proxy), concurrency, concurrency, expected, spread)
    direct = RoundResult()
    upstream_cpu_before = setup.upstream.cpu_seconds()
    samplers = [RssSampler(proxy_rounds.proxy.process) for proxy_rounds in rounds]
    for sampler in samplers:
        sampler.start()
    per_round = plan.calls(concurrency, setup.mode) // ROUNDS
    for _ in range(ROUNDS):
        direct.merge(await run_round(direct_call, concurrency, per_round, expected, spread))
        for proxy_rounds in rounds:
            process = proxy_rounds.proxy.process
            cpu_before, started = process.cpu_seconds(), time.monotonic()
            proxy_rounds.result.merge(
                await run_round(
                    call_of(proxy_rounds.proxy), concurrency, per_round, expected, spread
                )
            )
            proxy_rounds.windows.append((started, time.monotonic()))
            proxy_rounds.cpu_seconds += process.cpu_seconds() - cpu_before
    for sampler in samplers:
        await sampler.stop()
    upstream_calls = max(1, direct.completed + sum(item.result.completed for item in rounds))
    upstream_cpu_ms = (setup.upstream.cpu_seconds() - upstream_cpu_before) * 1000 / upstream_calls
    rows = []
    for proxy_rounds, sampler in zip(rounds, samplers, strict=True):
        proxy = proxy_rounds.proxy
        row = figures(
            operation,
            transport,
            concurrency,
            direct,
            proxy_rounds.result,
            proxy_rounds.cpu_seconds,
            upstream_cpu_ms,
            sampler.peak_mb,
            proxy.name,
        )
        rows.append(await with_stalls(row, proxy, proxy_rounds.windows))
    return rows


async def with_stalls(
    row: LevelFigures, proxy: Proxy, windows: list[tuple[float, float]]
) -> LevelFigures:
    """`row` with the loop lag and GC pauses of `proxy`'s process during `windows`."""
    if proxy.stall_file is None:
        return row
    samples = await read_samples(proxy.process.pid, proxy.stall_file)
    if samples is None:
        return row
    return replace(row, **asdict(window_figures(samples, windows)))


async def profile(
    setup: Setup, operation: str, plan: Plan, arguments: argparse.Namespace, output: Path
) -> str:
    """Profile the service under load and summarize where its CPU goes."""
    seconds, concurrency = arguments.profile_seconds, arguments.profile_concurrency
    expected = plan.chunks if operation == "chat" else 1
    call = setup.through_service.chat if operation == "chat" else setup.through_service.embed
    recording = asyncio.get_running_loop().create_task(record(setup.service.pid, seconds, output))
    while not recording.done():
        await run_round(call, concurrency, 4 * concurrency, expected)
    if not await recording:
        return "py-spy is not installed in the venv: no profile"
    return summarize(output)


async def provider_setup(
    mode: str,
    provider: BenchProvider,
    channels: tuple[grpc.aio.Channel, ...],
    metadata: tuple[tuple[str, str], ...],
    session: aiohttp.ClientSession,
    children: tuple[Child, Child],
) -> Setup:
    """A credential of `provider` pointing at the fake, and both clients calling it."""
    upstream, service = children
    base_url = provider.base_url(upstream.port)
    credential_id = await store_credential(channels[0], metadata, provider, base_url)
    chat = ChatRequest(credential_id=credential_id, messages=[Message(role=Role.USER, text="Hi")])
    embed = EmbedRequest(
        credential_id=credential_id, model="text-embedding-3-small", inputs=["Paris in spring"]
    )
    upstream_embed = {
        "model": "text-embedding-3-small",
        "input": ["Paris in spring"],
        "encoding_format": "base64",
    }
    direct = DirectClient(
        session,
        base_url + provider.chat_path,
        base_url + "/embeddings",
        provider.headers,
        provider.encoded_chat_body(),
        json.dumps(upstream_embed).encode(),
        provider.text_chunks_in,
    )
    through_service = ServiceClient(channels, metadata, bytes(chat), bytes(embed))
    return Setup(mode, provider, upstream, service, direct, through_service)


async def measure_provider(
    setup: Setup, transport: str, plan: Plan, arguments: argparse.Namespace
) -> list[LevelFigures]:
    name = setup.provider.name
    operations = [
        operation for operation in plan.operations if operation == "chat" or setup.provider.embeds
    ]
    if arguments.profile:
        for operation in operations:
            output = Path(f"{arguments.profile}-{setup.mode}-{name}-{transport}-{operation}.txt")
            summary = await profile(setup, operation, plan, arguments, output)
            print(f"profile of {name} {operation} ({transport}):\n{summary}", file=sys.stderr)
    results = []
    for operation in operations:
        for concurrency in plan.concurrencies:
            for row in await level(setup, operation, transport, concurrency, plan):
                row = replace(row, mode=setup.mode, workers=arguments.workers)
                print(
                    f"  {setup.mode} {row.provider} {operation} c={concurrency}: {row.as_dict()}",
                    file=sys.stderr,
                )
                results.append(row)
    return results


@asynccontextmanager
async def floor_proxy(upstream: Child, stall_file: Path) -> AsyncIterator[Proxy]:
    """`bench_floor.py` (grpc.aio and aiohttp, no service code) in front of the upstream."""
    floor_arguments = ["--upstream-port", str(upstream.port), "--stall-file", str(stall_file)]
    async with child("bench_floor.py", floor_arguments, {}) as floor:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{floor.port}")
        try:
            yield Proxy(FLOOR, floor, ServiceClient((channel,), (), b"", b""), stall_file)
        finally:
            await channel.close()


def service_channels(port: int, workers: int) -> tuple[grpc.aio.Channel, ...]:
    """One channel for one process; with workers, four connections each (own subchannels), as
    the kernel spreads connections over the workers that share the port."""
    if workers <= 1:
        return (grpc.aio.insecure_channel(f"127.0.0.1:{port}"),)
    options = [("grpc.use_local_subchannel_pool", 1)]
    return tuple(
        grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) for _ in range(4 * workers)
    )


async def measure_transport(
    mode: str,
    transport: str,
    dsn: str,
    upstream: Child,
    plan: Plan,
    arguments: argparse.Namespace,
    stall_directory: Path,
) -> list[LevelFigures]:
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    service_arguments = ["--dsn", dsn, "--log-level", arguments.log_level]
    service_arguments += ["--workers", str(arguments.workers)]
    if not arguments.settle_heap:
        service_arguments.append("--no-settle-heap")
    if arguments.gc_report:
        service_arguments += ["--gc-report", f"{arguments.gc_report}-{mode}-{transport}.json"]
    if arguments.slow_callbacks:
        service_arguments += ["--slow-callbacks", f"{arguments.slow_callbacks}-{mode}.jsonl"]
    # A fleet's workers are other processes than the one the benchmark starts: not probed.
    stall_file = stall_directory / "service.json" if arguments.workers <= 1 else None
    if stall_file is not None:
        service_arguments += ["--stall-file", str(stall_file)]
    token = mint_token(
        secret, organization_id="org-bench", project_id="project-bench", ttl=timedelta(hours=2)
    )
    metadata = (("authorization", f"Bearer {token}"),)
    async with (
        child("bench_service.py", service_arguments, environment) as service,
        AsyncExitStack() as stack,
    ):
        floor = None
        if arguments.floor and arguments.workers <= 1:
            floor_stalls = stall_directory / "floor.json"
            floor = await stack.enter_async_context(floor_proxy(upstream, floor_stalls))
        channels = service_channels(service.port, arguments.workers)
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                results = []
                for provider in plan.providers:
                    setup = await provider_setup(
                        mode, provider, channels, metadata, session, (upstream, service)
                    )
                    setup.stall_file = stall_file
                    # The floor forwards OpenAI's chat: it is measured beside OpenAI's rows.
                    setup.floor = floor if provider.name == "openai" else None
                    results += await measure_provider(setup, transport, plan, arguments)
                return results
        finally:
            for channel in channels:
                await channel.close()


async def run(arguments: argparse.Namespace) -> list[dict[str, object]]:
    """Speech first when asked for, then chat and embed; every level's figures as dicts."""
    llm_operations = [name for name in arguments.operations.split(",") if name != "speech"]
    async with fresh_database() as dsn:
        speech_rows = []
        if "speech" in arguments.operations.split(","):
            speech_rows = await run_speech(dsn, arguments)
        llm_rows = await run_llm(dsn, llm_operations, arguments) if llm_operations else []
    return [row.as_dict() for row in speech_rows] + [row.as_dict() for row in llm_rows]


async def run_llm(
    dsn: str, operations: list[str], arguments: argparse.Namespace
) -> list[LevelFigures]:
    plan = Plan(
        concurrencies=[int(value) for value in arguments.concurrency.split(",")],
        calls_per_worker=arguments.calls_per_worker,
        minimum_calls=arguments.minimum_calls,
        realistic_minimum_calls=arguments.realistic_minimum_calls,
        chunks=arguments.chunks,
        operations=operations,
        providers=[PROVIDERS[name] for name in arguments.providers.split(",")],
        spreads=_spreads(arguments),
    )
    # The same form as `date` prints.
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    all_rows: list[LevelFigures] = []
    for mode in arguments.modes.split(","):
        upstream_arguments = _upstream_arguments(mode, plan, arguments)
        async with child("bench_upstream.py", upstream_arguments, {}) as upstream:
            print(f"measuring {mode}", file=sys.stderr)
            with tempfile.TemporaryDirectory(prefix="integration-api-bench-") as stalls:
                all_rows += await measure_transport(
                    mode, TRANSPORT, dsn, upstream, plan, arguments, Path(stalls)
                )
    print_report(started, all_rows, arguments)
    return all_rows


def _spreads(arguments: argparse.Namespace) -> dict[str, float]:
    """Realistic chat calls start spread over one stream's length unless `--arrivals burst`."""
    if arguments.arrivals == "burst":
        return {}
    stream_ms = arguments.first_delay_ms + arguments.chunks * arguments.inter_delay_ms
    return {"realistic": stream_ms / 1000}


def _upstream_arguments(mode: str, plan: Plan, arguments: argparse.Namespace) -> list[str]:
    pacing = ["0", "0"]
    if mode == "realistic":
        pacing = [str(arguments.first_delay_ms), str(arguments.inter_delay_ms)]
    return [
        *("--chunks", str(plan.chunks), "--dimensions", str(arguments.dimensions)),
        *("--first-delay-ms", pacing[0], "--inter-delay-ms", pacing[1]),
    ]


def print_report(started: str, rows: list[LevelFigures], arguments: argparse.Namespace) -> None:
    print(f"# integration-api benchmark, {started}\n\n{machine()}\n")
    keys = dict.fromkeys((row.mode, row.operation, row.provider, row.transport) for row in rows)
    for key in keys:
        selected = [
            row for row in rows if (row.mode, row.operation, row.provider, row.transport) == key
        ]
        mode, operation, provider, transport = key
        workers = f", {arguments.workers} workers" if arguments.workers > 1 else ""
        title = f"## {mode}: {operation}, {provider}, provider transport: {transport}{workers}"
        print(f"{title}\n\n{table(selected)}\n")
    chat_rows = [row for row in rows if row.operation == "chat" and row.lag_max_ms > 0]
    if chat_rows:
        print(f"## Stalls during the measured rounds\n\n{stalls_table(chat_rows)}\n")
    print(f"## Targets\n\n{targets_table(rows)}\n")
    ratio = floor_cpu_ratio(rows)
    if ratio is not None:
        print(f"service CPU per realistic stream at c=64 ÷ the floor's (same run): {ratio:.2f}\n")
    if arguments.baseline:
        print(f"## Fast mode against {arguments.baseline}\n")
        print(fast_regressions(rows, json.loads(Path(arguments.baseline).read_text())) + "\n")
    if len({row.provider for row in rows} - {FLOOR}) > 1:
        print(f"## service CPU per chat stream, next to OpenAI's\n\n{cpu_comparison(rows)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", default="1,16,64,256", help="comma-separated levels")
    parser.add_argument("--modes", default="realistic,fast", help="realistic, fast or both")
    parser.add_argument("--first-delay-ms", type=float, default=200.0, help="realistic mode")
    parser.add_argument("--inter-delay-ms", type=float, default=20.0, help="realistic mode")
    parser.add_argument("--workers", type=int, default=1, help="run the service as a fleet")
    parser.add_argument(
        "--arrivals",
        choices=("spread", "burst"),
        default="spread",
        help="realistic chat calls start spread over a stream's length, or all at once",
    )
    parser.add_argument("--baseline", help="a --json file of an earlier run to compare fast mode")
    parser.add_argument(
        "--operations", default="chat,embed", help="of chat, embed and speech (see --speech-*)"
    )
    parser.add_argument(
        "--providers",
        default="openai",
        help=f"comma-separated, of: {', '.join(PROVIDERS)} (embed runs where there is one)",
    )
    parser.add_argument("--chunks", type=int, default=20, help="text chunks per stream")
    parser.add_argument("--dimensions", type=int, default=1536, help="floats per embedding")
    parser.add_argument("--calls-per-worker", type=int, default=12)
    parser.add_argument("--minimum-calls", type=int, default=400)
    parser.add_argument("--realistic-minimum-calls", type=int, default=48)
    parser.add_argument("--log-level", default="info", help="the service's log level")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile", help="py-spy the service first; collapsed stacks to PATH-*")
    parser.add_argument("--profile-seconds", type=float, default=15)
    parser.add_argument("--profile-concurrency", type=int, default=16)
    parser.add_argument(
        "--no-settle-heap",
        dest="settle_heap",
        action="store_false",
        help="leave the service's start-up heap unfrozen, to measure what freezing it saves",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure chat through a bare grpc.aio and aiohttp proxy (bench_floor.py)",
    )
    parser.add_argument("--gc-report", help="the service's GC pauses to PATH-<mode>-<transport>")
    parser.add_argument(
        "--slow-callbacks",
        help="the service's loop callbacks over 5 ms, with wall and CPU time, to PATH-<mode>.jsonl",
    )
    add_speech_options(parser)
    arguments = parser.parse_args()
    rows = asyncio.run(run(arguments))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
