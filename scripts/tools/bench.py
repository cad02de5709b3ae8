"""The benchmark: streaming chat and embeddings, directly against a fake upstream and through us.

Starts a fast fake OpenAI (`bench_upstream.py`) and the service (`bench_service.py`, on a fresh
database of the local PostgreSQL), stores one credential pointing at the fake, then for each
concurrency runs the same calls directly against the upstream and through the service, in
alternating rounds so drift in the machine affects both alike. It repeats everything for each
provider transport of the service. Prints one table per operation and transport.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import grpc.aio
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
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
from scripts.tools.bench_load import DirectClient, RoundResult, ServiceClient, run_round
from scripts.tools.bench_processes import Child, RssSampler, child, fresh_database
from scripts.tools.bench_profile import record, summarize
from scripts.tools.bench_report import LevelFigures, figures, machine, table

ROUNDS = 4


@dataclass(frozen=True)
class Plan:
    concurrencies: list[int]
    calls_per_worker: int
    minimum_calls: int
    chunks: int
    operations: list[str]

    def calls(self, concurrency: int) -> int:
        total = max(self.minimum_calls, concurrency * self.calls_per_worker)
        return total - total % ROUNDS


@dataclass
class Setup:
    upstream: Child
    service: Child
    direct: DirectClient
    through_service: ServiceClient


async def store_credential(
    channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]], base_url: str
) -> str:
    reply = await CredentialServiceStub(channel).create_credential(
        CreateCredentialRequest(
            provider="openai",
            name="bench-" + secrets.token_hex(4),
            secret=CredentialSecret(api_key=ApiKeySecret(key="sk-bench-" + secrets.token_hex(16))),
            config=CredentialConfig(base_url=base_url, default_model="gpt-4o-mini"),
            skip_verification=True,
        ),
        metadata=tuple(metadata),
    )
    assert reply.credential is not None
    return reply.credential.id


async def level(
    setup: Setup, operation: str, transport: str, concurrency: int, plan: Plan
) -> LevelFigures:
    """One concurrency level: warm up, then alternate direct and service rounds."""
    expected = plan.chunks if operation == "chat" else 1
    direct_call = setup.direct.chat if operation == "chat" else setup.direct.embed
    service_call = (
        setup.through_service.chat if operation == "chat" else setup.through_service.embed
    )
    await run_round(direct_call, concurrency, concurrency, expected)
    await run_round(service_call, concurrency, concurrency, expected)
    direct, service = RoundResult(), RoundResult()
    service_cpu = 0.0
    upstream_cpu_before = setup.upstream.cpu_seconds()
    sampler = RssSampler(setup.service)
    sampler.start()
    per_round = plan.calls(concurrency) // ROUNDS
    for _ in range(ROUNDS):
        direct.merge(await run_round(direct_call, concurrency, per_round, expected))
        cpu_before = setup.service.cpu_seconds()
        service.merge(await run_round(service_call, concurrency, per_round, expected))
        service_cpu += setup.service.cpu_seconds() - cpu_before
    await sampler.stop()
    upstream_calls = max(1, direct.completed + service.completed)
    upstream_cpu_ms = (setup.upstream.cpu_seconds() - upstream_cpu_before) * 1000 / upstream_calls
    return figures(
        operation,
        transport,
        concurrency,
        direct,
        service,
        service_cpu,
        upstream_cpu_ms,
        sampler.peak_mb,
    )


async def profile(setup: Setup, operation: str, plan: Plan, seconds: float, output: Path) -> str:
    """Profile the service under load (16 at a time) and summarize where its CPU goes."""
    expected = plan.chunks if operation == "chat" else 1
    call = setup.through_service.chat if operation == "chat" else setup.through_service.embed
    recording = asyncio.get_running_loop().create_task(record(setup.service.pid, seconds, output))
    while not recording.done():
        await run_round(call, 16, 64, expected)
    if not await recording:
        return "py-spy is not installed in the venv: no profile"
    return summarize(output)


async def measure_transport(
    transport: str, dsn: str, upstream: Child, plan: Plan, arguments: argparse.Namespace
) -> list[LevelFigures]:
    secret = secrets.token_urlsafe(48)
    environment = {"SECRET": secret, "INTEGRATION_CRYPTO_KEY": generate_key()}
    service_arguments = ["--dsn", dsn, "--transport", transport, "--log-level", arguments.log_level]
    token = mint_token(
        secret, organization_id="org-bench", project_id="project-bench", ttl=timedelta(hours=2)
    )
    metadata = (("authorization", f"Bearer {token}"),)
    base_url = f"http://127.0.0.1:{upstream.port}/v1"
    async with child("bench_service.py", service_arguments, environment) as service:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.port}")
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=30)
        async with channel, aiohttp.ClientSession(connector=connector) as session:
            credential_id = await store_credential(channel, metadata, base_url)
            chat = ChatRequest(
                credential_id=credential_id, messages=[Message(role=Role.USER, text="Hi")]
            )
            embed = EmbedRequest(
                credential_id=credential_id,
                model="text-embedding-3-small",
                inputs=["Paris in spring"],
            )
            upstream_chat = {
                "model": "gpt-4o-mini",
                "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "Hi"}],
            }
            upstream_embed = {
                "model": "text-embedding-3-small",
                "input": ["Paris in spring"],
                "encoding_format": "base64",
            }
            setup = Setup(
                upstream,
                service,
                DirectClient(
                    session,
                    base_url,
                    json.dumps(upstream_chat).encode(),
                    json.dumps(upstream_embed).encode(),
                ),
                ServiceClient(channel, metadata, bytes(chat), bytes(embed)),
            )
            results = []
            if arguments.profile:
                for operation in plan.operations:
                    output = Path(f"{arguments.profile}-{transport}-{operation}.txt")
                    summary = await profile(
                        setup, operation, plan, arguments.profile_seconds, output
                    )
                    print(f"profile of {operation} ({transport}):\n{summary}", file=sys.stderr)
            for operation in plan.operations:
                for concurrency in plan.concurrencies:
                    row = await level(setup, operation, transport, concurrency, plan)
                    print(f"  {operation} c={concurrency}: {row.as_dict()}", file=sys.stderr)
                    results.append(row)
            return results


async def run(arguments: argparse.Namespace) -> list[LevelFigures]:
    plan = Plan(
        concurrencies=[int(value) for value in arguments.concurrency.split(",")],
        calls_per_worker=arguments.calls_per_worker,
        minimum_calls=arguments.minimum_calls,
        chunks=arguments.chunks,
        operations=arguments.operations.split(","),
    )
    # The same form as `date` prints.
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    upstream_arguments = ["--chunks", str(plan.chunks), "--dimensions", str(arguments.dimensions)]
    all_rows: list[LevelFigures] = []
    async with (
        fresh_database() as dsn,
        child("bench_upstream.py", upstream_arguments, {}) as upstream,
    ):
        for transport in arguments.transports.split(","):
            print(f"measuring with the {transport} transport", file=sys.stderr)
            all_rows += await measure_transport(transport, dsn, upstream, plan, arguments)
    print(f"# integration-api benchmark, {started}\n\n{machine()}\n")
    for operation in plan.operations:
        for transport in arguments.transports.split(","):
            rows = [
                row for row in all_rows if row.operation == operation and row.transport == transport
            ]
            print(f"## {operation}, provider transport: {transport}\n\n{table(rows)}\n")
    return all_rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", default="1,16,64,256", help="comma-separated levels")
    parser.add_argument("--transports", default="aiohttp,httpx", help="aiohttp, httpx or both")
    parser.add_argument("--operations", default="chat,embed")
    parser.add_argument("--chunks", type=int, default=20, help="text chunks per stream")
    parser.add_argument("--dimensions", type=int, default=1536, help="floats per embedding")
    parser.add_argument("--calls-per-worker", type=int, default=12)
    parser.add_argument("--minimum-calls", type=int, default=400)
    parser.add_argument("--log-level", default="info", help="the service's log level")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile", help="py-spy the service first; collapsed stacks to PATH-*")
    parser.add_argument("--profile-seconds", type=float, default=15)
    arguments = parser.parse_args()
    rows = asyncio.run(run(arguments))
    if arguments.json:
        Path(arguments.json).write_text(
            json.dumps([row.as_dict() for row in rows], indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
