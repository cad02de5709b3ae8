"""`scripts/bench --abuse`: one tenant's realistic chats, quiet and then under abuse.

Starts the realistic fake OpenAI (`bench_upstream.py`) and the service (`bench_service.py`, a
fresh database, the OAuth callback shim on, `UPSTREAM_MAX_CALLS_PER_TENANT` at `--cap`), then
runs the first tenant's chats twice for `--seconds` each, a health `Check` every 100 ms
throughout: once quiet, once while idle health Watch streams without a token, slow-header
connections to the callback shim, a flood of callbacks with unknown states and a second tenant
at its call cap all run. Prints the first tenant's success rate and ΔTTFT (time to first
token past the upstream's own first delay) for both runs, the health probe's latencies, what
became of each abuser, the audit rows added, and the targets met or missed.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import grpc.aio
from integration_api_proto.integration.v1 import ChatRequest, Message, Role

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from scripts.tools.bench import store_credential
from scripts.tools.bench_abuse_load import (
    CallbackFlood,
    HealthProbe,
    SlowHeaders,
    TenantAtCap,
    WatchCrowd,
    timed_chats,
)
from scripts.tools.bench_abuse_report import PhaseFigures, report
from scripts.tools.bench_load import ServiceClient
from scripts.tools.bench_processes import Child, child, fresh_database
from scripts.tools.bench_providers import PROVIDERS

CALLBACK_PATH = "/oauth/callback/google"


@dataclass
class Bench:
    arguments: argparse.Namespace
    dsn: str
    service: Child
    first: ServiceClient
    second: ServiceClient
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.service.port}"

    @property
    def callback_port(self) -> int:
        return int(str(self.service.announced["callback_port"]))

    def descriptors(self) -> int:
        return len(list(Path(f"/proc/{self.service.pid}/fd").iterdir()))


async def audit_rows(dsn: str) -> tuple[int, int]:
    """Rows in the audit chain, and those of them an anonymous callback appended."""
    connection = await asyncpg.connect(dsn)
    try:
        total = await connection.fetchval("SELECT count(*) FROM audit_events")
        anonymous = await connection.fetchval(
            "SELECT count(*) FROM audit_events WHERE actor LIKE 'anonymous%'"
        )
        return int(total), int(anonymous)
    finally:
        await connection.close()


async def tenant_client(
    service: Child, channel: grpc.aio.Channel, secret: str, organization: str, base_url: str
) -> ServiceClient:
    """A tenant's token and credential, and a client that chats with it."""
    token = mint_token(
        secret, organization_id=organization, project_id="bench", ttl=timedelta(hours=2)
    )
    metadata = (("authorization", f"Bearer {token}"),)
    openai = PROVIDERS["openai"]
    credential_id = await store_credential(channel, metadata, openai, base_url)
    hello = [Message(role=Role.USER, text="Hi")]
    request = ChatRequest(credential_id=credential_id, messages=hello)
    return ServiceClient((channel,), metadata, bytes(request), b"")


async def phase(bench: Bench, name: str, abusive: bool) -> PhaseFigures:
    """The first tenant's chats for `--seconds`, with the health probe, abused or not."""
    arguments = bench.arguments
    stop = asyncio.Event()
    probe_channel = grpc.aio.insecure_channel(bench.address)
    probe = HealthProbe(probe_channel)
    figures = PhaseFigures(name)
    loop = asyncio.get_running_loop()
    background = [loop.create_task(probe.run(stop))]
    abusers = Abusers(bench) if abusive else None
    rows_before = await audit_rows(bench.dsn)
    figures.descriptors_before = bench.descriptors()
    if abusers is not None:
        await abusers.start(stop, background)
    print(f"{name}: the first tenant's chats for {arguments.seconds} s", file=sys.stderr)
    result, reasons = await timed_chats(
        bench.first, arguments.concurrency, arguments.seconds, arguments.chunks
    )
    figures.descriptors_after = bench.descriptors()
    if abusers is not None:
        abusers.observe(figures)
        await abusers.close()
    stop.set()
    await asyncio.gather(*background)
    await probe_channel.close()
    rows_after = await audit_rows(bench.dsn)
    figures.record(result, reasons, probe, arguments.first_delay_ms / 1000)
    figures.audit_rows = rows_after[0] - rows_before[0]
    figures.anonymous_audit_rows = rows_after[1] - rows_before[1]
    return figures


class Abusers:
    """Everything the abusive phase runs beside the first tenant's chats."""

    def __init__(self, bench: Bench) -> None:
        arguments = bench.arguments
        self.bench = bench
        self.watches = WatchCrowd(bench.address, arguments.watch_streams)
        self.slow = SlowHeaders(bench.callback_port, CALLBACK_PATH, arguments.slow_connections)
        url = f"http://127.0.0.1:{bench.callback_port}{CALLBACK_PATH}"
        self.flood = CallbackFlood(url, arguments.flood_concurrency)
        self.second = TenantAtCap(bench.second, arguments.cap + arguments.cap_excess)
        self.started = 0.0

    async def start(self, stop: asyncio.Event, background: list[asyncio.Task[None]]) -> None:
        loop = asyncio.get_running_loop()
        print(f"opening {self.watches.count} Watch streams", file=sys.stderr)
        await self.watches.open()
        await self.slow.open()
        background += [loop.create_task(self.flood.run(stop))]
        background += [loop.create_task(self.second.run(stop))]
        self.started = time.perf_counter()
        await asyncio.sleep(1.0)  # the second tenant reaches its cap

    def observe(self, figures: PhaseFigures) -> None:
        figures.abuse_seconds = time.perf_counter() - self.started
        figures.watches = (self.watches.count, self.watches.opened, self.watches.still_open())
        figures.watch_refusals = dict(self.watches.refused)
        figures.slow = (self.slow.count, self.slow.opened, self.slow.still_open())
        figures.slow_closed_after = list(self.slow.closed_after)
        figures.flood = dict(self.flood.statuses)
        figures.second = (self.second.completed, self.second.refused, dict(self.second.failed))

    async def close(self) -> None:
        await self.watches.close()
        await self.slow.close()


async def run(arguments: argparse.Namespace) -> None:
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    upstream_arguments = [
        *("--chunks", str(arguments.chunks), "--dimensions", "8"),
        *("--first-delay-ms", str(arguments.first_delay_ms)),
        *("--inter-delay-ms", str(arguments.inter_delay_ms)),
    ]
    service_arguments = ["--log-level", "warning", "--oauth-callback"]
    service_arguments += ["--max-calls-per-tenant", str(arguments.cap)]
    async with (
        fresh_database() as dsn,
        child("bench_upstream.py", upstream_arguments, {}) as upstream,
        child("bench_service.py", ["--dsn", dsn, *service_arguments], environment) as service,
    ):
        base_url = PROVIDERS["openai"].base_url(upstream.port)
        first_channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        second_channel = grpc.aio.insecure_channel(
            f"127.0.0.1:{service.port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        try:
            first = await tenant_client(service, first_channel, secret, "org-first", base_url)
            second = await tenant_client(service, second_channel, secret, "org-second", base_url)
            bench = Bench(arguments, dsn, service, first, second)
            quiet = await phase(bench, "quiet", abusive=False)
            abused = await phase(bench, "abuse", abusive=True)
        finally:
            await first_channel.close()
            await second_channel.close()
    print(report(arguments, quiet, abused))


def add_abuse_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--abuse", action="store_true", help=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=16, help="the first tenant's chats")
    parser.add_argument("--cap", type=int, default=16, help="UPSTREAM_MAX_CALLS_PER_TENANT")
    parser.add_argument("--cap-excess", type=int, default=8, help="second tenant's callers past it")
    parser.add_argument("--watch-streams", type=int, default=2000)
    parser.add_argument("--slow-connections", type=int, default=200)
    parser.add_argument("--flood-concurrency", type=int, default=8)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--first-delay-ms", type=float, default=200.0)
    parser.add_argument("--inter-delay-ms", type=float, default=20.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_abuse_options(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
