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
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import asyncpg
import grpc.aio
from integration_api_proto.integration.v1 import ChatRequest, Message, Role

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from scripts.tools.bench import store_credential
from scripts.tools.bench_abuse_load import HealthProbe, timed_chats
from scripts.tools.bench_abuse_report import PhaseFigures, report
from scripts.tools.bench_load import ServiceClient
from scripts.tools.bench_processes import Child, child, fresh_database
from scripts.tools.bench_providers import PROVIDERS


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
        await abusers.observe(figures)
        await abusers.close()
    stop.set()
    await asyncio.gather(*background)
    await probe_channel.close()
    rows_after = await audit_rows(bench.dsn)
    figures.record(result, reasons, probe, arguments.first_delay_ms / 1000)
    figures.audit_rows = rows_after[0] - rows_before[0]
    figures.anonymous_audit_rows = rows_after[1] - rows_before[1]
    return figures


def second_callers(arguments: argparse.Namespace) -> int:
    return arguments.cap + arguments.cap_excess if arguments.second_tenant else 0


class Abusers:
    """The abusers, in a process of their own (`bench_abuse_crowd.py`) so that their client-side
    work does not delay the first tenant's client."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, stop: asyncio.Event, background: list[asyncio.Task[None]]) -> None:
        arguments, second = self.bench.arguments, self.bench.second
        token = second.metadata[0][1].removeprefix("Bearer ")
        print(f"opening {arguments.watch_streams} Watch streams", file=sys.stderr)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "scripts.tools.bench_abuse_crowd"),
            *("--port", str(self.bench.service.port)),
            *("--callback-port", str(self.bench.callback_port)),
            *("--request", second.chat_request.hex()),
            *("--second-callers", str(second_callers(arguments))),
            *("--watch-streams", str(arguments.watch_streams)),
            *("--slow-connections", str(arguments.slow_connections)),
            *("--flood-concurrency", str(arguments.flood_concurrency)),
            *("--flood-rate", str(arguments.flood_rate)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "BENCH_SECOND_TOKEN": token},
        )
        assert self.process.stdout is not None
        if not await asyncio.wait_for(self.process.stdout.readline(), 120):
            raise RuntimeError("the abusers' process exited before it was ready")

    async def observe(self, figures: PhaseFigures) -> None:
        process = self.process
        assert process is not None and process.stdin is not None and process.stdout is not None
        process.stdin.write(b"stop\n")
        await process.stdin.drain()
        tally = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
        figures.abuse_seconds = float(tally["seconds"])
        figures.watches = tuple(tally["watches"])
        figures.watch_refusals = tally["watch_refusals"]
        figures.slow = tuple(tally["slow"])
        figures.slow_closed_after = tally["slow_closed_after"]
        figures.flood = tally["flood"]
        completed, refused, failed = tally["second"]
        figures.second = (completed, refused, failed)

    async def close(self) -> None:
        if self.process is not None:
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


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
    parser.add_argument(
        "--no-second-tenant",
        dest="second_tenant",
        action="store_false",
        help="leave the second tenant out (to see what each abuser costs, with the counts at 0)",
    )
    parser.add_argument("--watch-streams", type=int, default=2000)
    parser.add_argument("--slow-connections", type=int, default=200)
    parser.add_argument("--flood-concurrency", type=int, default=8)
    parser.add_argument(
        "--flood-rate", type=float, default=1000.0, help="callbacks per second; 0: unpaced"
    )
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
