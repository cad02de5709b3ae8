"""What a route costs: the added time to first token of a failover, and a route's overhead.

Starts the fast fake OpenAI (`bench_upstream.py`, the whole answer at once, so the service's own
time is not hidden in the provider's), a provider that refuses every request at once
(`bench_refusing_upstream.py`: 429 with rate-limit headers, or 503), a port where nothing listens
and the service, on a fresh database. It stores a key for each, and routes over them:

| call                         | how it is made                                      |
| ---------------------------- | --------------------------------------------------- |
| credential                   | naming the healthy provider's credential            |
| route, nothing fails         | a route whose only target is that credential        |
| route, first answers 429     | the refusing provider first, the healthy one second |
| route, first answers 503     | the same with 503                                   |
| route, first refuses connect | the closed port first, the healthy one second       |

Calls run one at a time, one of each variant in turn (the order rotating), so the machine's drift
weighs on all alike. Printed per variant: time to first token (p50, p90), the service's CPU per
call, and the difference with naming the credential (the median of the differences between the
k-th calls of both), next to the targets (a failover adds at most 5 ms to the first token; a
route at most 0.3 ms when nothing fails), and how the failing target fared in a few calls read
back after the run: called and refused, or skipped without a call (once a call gate has paused
the credential after its 429 or opened its breaker, the route skips it, which costs less).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import grpc.aio
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ChatRequest,
    CreateCredentialRequest,
    CreateRouteRequest,
    CredentialConfig,
    CredentialSecret,
    Message,
    Role,
    RoutePolicy,
    RouteTarget,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    LlmServiceStub,
    RouteServiceStub,
)

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from scripts.tools.bench_load import ServiceClient, run_round
from scripts.tools.bench_processes import Child, child, fresh_database

MODEL = "gpt-4o-mini"
FAILOVER_TARGET_MS = 5.0
OVERHEAD_TARGET_MS = 0.3
CREDENTIAL = "credential"
HEALTHY_ROUTE = "route, nothing fails"


@dataclass
class Figures:
    firsts: list[float] = field(default_factory=list)
    errors: int = 0
    cpu_seconds: float = 0.0
    # How the route's first target fared in the calls sampled after the run (for a route).
    first_target: Counter[str] = field(default_factory=Counter)

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(first for first in self.firsts if first == first)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def cpu_ms_per_call(self) -> float:
        return self.cpu_seconds * 1000 / max(1, len(self.firsts))


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of `pid` so far, to the nanosecond (the scheduler's own count:
    /proc/<pid>/stat counts in clock ticks of 10 ms, far coarser than one call)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def store_key(
    channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]], base_url: str
) -> str:
    reply = await CredentialServiceStub(channel).create_credential(
        CreateCredentialRequest(
            provider="openai",
            name="bench-" + secrets.token_hex(4),
            secret=CredentialSecret(api_key=ApiKeySecret(key="sk-bench-" + secrets.token_hex(16))),
            config=CredentialConfig(base_url=base_url, default_model=MODEL),
            skip_verification=True,
        ),
        metadata=tuple(metadata),
    )
    assert reply.credential is not None
    return reply.credential.id


async def create_route(
    channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]], credential_ids: list[str]
) -> str:
    reply = await RouteServiceStub(channel).create_route(
        CreateRouteRequest(
            name="bench-" + secrets.token_hex(4),
            policy=RoutePolicy.FAILOVER,
            targets=[RouteTarget(credential_id=credential_id) for credential_id in credential_ids],
        ),
        metadata=tuple(metadata),
    )
    assert reply.route is not None
    return reply.route.id


def chat_bytes(credential_id: str = "", route_id: str = "") -> bytes:
    message = Message(role=Role.USER, text="Hi")
    return bytes(ChatRequest(credential_id=credential_id, route_id=route_id, messages=[message]))


async def variants(
    channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...], ports: dict[str, int]
) -> dict[str, bytes]:
    """Each variant's chat request, over keys and routes stored for this run."""
    keys = {
        name: await store_key(channel, metadata, f"http://127.0.0.1:{port}/v1")
        for name, port in ports.items()
    }
    healthy = keys["healthy"]
    requests = {
        CREDENTIAL: chat_bytes(credential_id=healthy),
        HEALTHY_ROUTE: chat_bytes(route_id=await create_route(channel, metadata, [healthy])),
    }
    for name, label in (
        ("429", "route, first answers 429"),
        ("503", "route, first answers 503"),
        ("closed", "route, first refuses connect"),
    ):
        route = await create_route(channel, metadata, [keys[name], healthy])
        requests[label] = chat_bytes(route_id=route)
    return requests


async def measure(
    service: Child,
    channel: grpc.aio.Channel,
    metadata: tuple[tuple[str, str], ...],
    requests: dict[str, bytes],
    arguments: argparse.Namespace,
) -> dict[str, Figures]:
    clients = {
        name: ServiceClient((channel,), metadata, body, b"") for name, body in requests.items()
    }
    for client in clients.values():
        await run_round(client.chat, 1, arguments.warmup, arguments.chunks)
    figures = {name: Figures() for name in clients}
    names = list(clients)
    for number in range(arguments.calls):
        # One call of each variant in turn, the order rotating: the k-th calls of two variants
        # ran moments apart, so their difference is little touched by the machine's drift.
        rotated = names[number % len(names) :] + names[: number % len(names)]
        for name in rotated:
            cpu_before = cpu_seconds(service.pid)
            result = await run_round(clients[name].chat, 1, 1, arguments.chunks)
            figures[name].cpu_seconds += cpu_seconds(service.pid) - cpu_before
            figures[name].firsts += result.firsts or [float("nan")]
            figures[name].errors += result.errors
    return figures


async def sample_outcomes(
    channel: grpc.aio.Channel,
    metadata: tuple[tuple[str, str], ...],
    requests: dict[str, bytes],
    figures: dict[str, Figures],
    calls: int,
) -> None:
    """Reads the route report of a few more calls per route: whether the failing target was
    called and refused, or skipped without a call (a call gate may pause a credential after a
    429, or open its breaker after failures, and then skip it: that is what was measured)."""
    stub = LlmServiceStub(channel)
    for name, body in requests.items():
        if name == CREDENTIAL:
            continue
        for _ in range(calls):
            async for chunk in stub.chat(ChatRequest.FromString(body), metadata=metadata):
                route = chunk.finish.route if chunk.finish is not None else None
                if route is not None and route.attempts:
                    figures[name].first_target[route.attempts[0].outcome.name.lower()] += 1


def paired_delta_ms(row: Figures, base: Figures) -> float:
    """The median over k of (row's k-th TTFT - base's k-th TTFT), failed calls left out."""
    deltas = sorted(
        (first - base_first) * 1000
        for first, base_first in zip(row.firsts, base.firsts, strict=True)
        if first == first and base_first == base_first  # NaN marks a failed call
    )
    return deltas[len(deltas) // 2] if deltas else float("nan")


def report(figures: dict[str, Figures], started: str) -> str:
    base = figures[CREDENTIAL]
    lines = [
        f"# integration-api route benchmark, {started}",
        "",
        "| call | calls | errors | TTFT p50 ms | TTFT p90 ms | paired Δ p50 ms | CPU ms/call "
        "| Δ CPU ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in figures.items():
        delta = paired_delta_ms(row, base)
        cpu_delta = row.cpu_ms_per_call() - base.cpu_ms_per_call()
        lines.append(
            f"| {name} | {len(row.firsts)} | {row.errors} | {row.percentile_ms(0.5):.2f} "
            f"| {row.percentile_ms(0.9):.2f} | {delta:+.2f} | {row.cpu_ms_per_call():.2f} "
            f"| {cpu_delta:+.2f} |"
        )
    lines += ["", "| call | the first target's outcome in the calls sampled after the run |"]
    lines += ["| --- | --- |"]
    for name, row in figures.items():
        if row.first_target:
            tally = ", ".join(f"{outcome} {count}" for outcome, count in row.first_target.items())
            lines.append(f"| {name} | {tally} |")
    lines += ["", "| target | figure | limit | met |", "| --- | ---: | ---: | --- |"]
    checks = [
        (f"added ΔTTFT p50, {name.removeprefix('route, ')}", name, FAILOVER_TARGET_MS)
        for name in figures
        if name not in (CREDENTIAL, HEALTHY_ROUTE)
    ]
    checks.append(("route overhead p50, nothing fails", HEALTHY_ROUTE, OVERHEAD_TARGET_MS))
    for title, name, limit in checks:
        value = paired_delta_ms(figures[name], base)
        met = "yes" if value <= limit and not figures[name].errors else "no"
        lines.append(f"| {title} | {value:.2f} ms | {limit} ms | {met} |")
    return "\n".join(lines)


async def run(arguments: argparse.Namespace) -> dict[str, Figures]:
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    token = mint_token(
        secret, organization_id="org-bench", project_id="project-bench", ttl=timedelta(hours=2)
    )
    metadata = (("authorization", f"Bearer {token}"),)
    upstream_arguments = ["--chunks", str(arguments.chunks)]
    async with (
        fresh_database() as dsn,
        child("bench_upstream.py", upstream_arguments, {}) as healthy,
        child("bench_refusing_upstream.py", ["--status", "429"], {}) as limited,
        child("bench_refusing_upstream.py", ["--status", "503"], {}) as overloaded,
        child(
            "bench_service.py", ["--dsn", dsn, "--log-level", arguments.log_level], environment
        ) as service,
    ):
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        try:
            ports = {
                "healthy": healthy.port,
                "429": limited.port,
                "503": overloaded.port,
                "closed": closed_port(),
            }
            requests = await variants(channel, metadata, ports)
            figures = await measure(service, channel, metadata, requests, arguments)
            await sample_outcomes(channel, metadata, requests, figures, arguments.sampled)
        finally:
            await channel.close()
    print(report(figures, started))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--routes", action="store_true", help="(how ./scripts/bench gets here)")
    parser.add_argument("--calls", type=int, default=400, help="calls per variant")
    parser.add_argument("--sampled", type=int, default=20, help="calls per route read back")
    parser.add_argument("--warmup", type=int, default=30, help="calls per variant first")
    parser.add_argument("--chunks", type=int, default=20, help="text chunks per stream")
    parser.add_argument("--log-level", default="info", help="the service's log level")
    parser.add_argument("--json", help="also write the figures to this file")
    arguments = parser.parse_args()
    figures = asyncio.run(run(arguments))
    if arguments.json:
        rows = {
            name: {
                "ttft_p50_ms": row.percentile_ms(0.5),
                "ttft_p90_ms": row.percentile_ms(0.9),
                "cpu_ms_per_call": row.cpu_ms_per_call(),
                "paired_delta_p50_ms": paired_delta_ms(row, figures[CREDENTIAL]),
                "calls": len(row.firsts),
                "errors": row.errors,
            }
            for name, row in figures.items()
        }
        with open(arguments.json, "w") as output:
            json.dump(rows, output, indent=2)
    sys.exit(0)


if __name__ == "__main__":
    main()
