"""Probe latency under load: how long a gRPC health Check and an HTTP `/readiness/` take while
the service is busy, optionally in a CPU-quota cgroup (as a Kubernetes CPU limit is enforced)
beside a busy loop. The figures behind the Deployment's probe timeouts (README "Probe timing").

    .venv/bin/python -m scripts.tools.probe_latency --concurrency 64 --seconds 30
    sudo .venv/bin/python -m scripts.tools.probe_latency --quota 0.5 --busy --concurrency 64

It starts the fake OpenAI of the benchmark, the service (`integration-api serve`) on a fresh
database of the local PostgreSQL (BENCH_POSTGRES_DSN), pinned to CPU 0 (in the cgroup
`--cgroup` with `--quota` CPUs, cgroup v1, which needs root), keeps `--concurrency` streaming
chats going from this process, and probes every 0.25 s from a thread on a new connection each
time (as the kubelet does). Prints one JSON line: p50/p90/p99/max in ms for each probe kind,
the service's CPU use and the streams completed a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import grpc
import grpc.aio
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import ChatRequest, Message, Role

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from scripts.tools.bench import store_credential
from scripts.tools.bench_load import ServiceClient
from scripts.tools.bench_processes import ADMIN_DSN
from scripts.tools.bench_providers import PROVIDERS

TOOLS = Path(__file__).resolve().parent
PERIOD_US = 100_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _grpc_check(address: str) -> float:
    started = time.perf_counter()
    with grpc.insecure_channel(address) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        check(health_pb2.HealthCheckRequest(service=""), timeout=30)
    return time.perf_counter() - started


def _http_readiness(port: int) -> float:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"GET /readiness/ HTTP/1.1\r\nHost: pod\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    if not answer.startswith(b"HTTP/1.0 200"):
        raise RuntimeError(f"/readiness/ answered {answer[:40]!r}")
    return time.perf_counter() - started


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(quantile: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": at(1.0)}


def probe(address: str, metrics_port: int, seconds: float) -> dict[str, object]:
    """The prober's loop (a process of its own, so the load's client does not slow it)."""
    grpc_times: list[float] = []
    http_times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        grpc_times.append(_grpc_check(address))
        http_times.append(_http_readiness(metrics_port))
        time.sleep(0.25)
    return {"grpc_ms": _summary(grpc_times), "http_ms": _summary(http_times)}


async def _probe_in_a_process(address: str, metrics_port: int, seconds: float) -> dict[str, object]:
    prober = await asyncio.create_subprocess_exec(
        *["taskset", "-c", "1", sys.executable, "-m", "scripts.tools.probe_latency"],
        *["--probe", address, str(metrics_port), "--seconds", str(seconds)],
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await prober.communicate()
    figures: dict[str, object] = json.loads(output)
    return figures


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _in_cgroup(command: str, cgroup: Path | None) -> list[str]:
    """`command` on CPU 0, inside `cgroup` when one is given."""
    enter = f"echo $$ > {cgroup / 'cgroup.procs'}; " if cgroup else ""
    return ["sh", "-c", f"{enter}exec taskset -c 0 {command}"]


@contextmanager
def _cgroup(path: Path, quota: float | None) -> Iterator[Path | None]:
    if quota is None:
        yield None
        return
    path.mkdir(exist_ok=True)
    (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
    (path / "cpu.cfs_quota_us").write_text(str(int(quota * PERIOD_US)))
    try:
        yield path
    finally:
        throttled = (path / "cpu.stat").read_text().split()
        print(f"cgroup: {dict(zip(throttled[::2], throttled[1::2], strict=True))}", file=sys.stderr)
        with suppress(OSError):  # every process in it has ended
            path.rmdir()


async def _load(
    client: ServiceClient, concurrency: int, done: list[int]
) -> list[asyncio.Task[None]]:
    async def streams() -> None:
        while True:
            await client.chat()
            done[0] += 1

    return [asyncio.create_task(streams()) for _ in range(concurrency)]


@dataclass
class Running:
    """The started service and fake provider, and how to reach them."""

    service: subprocess.Popen[bytes]
    address: str
    metrics_port: int
    upstream_port: int
    secret: str


async def _database(name: str, create: bool) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        statement = f"CREATE DATABASE {name}" if create else f"DROP DATABASE {name} WITH (FORCE)"
        await admin.execute(statement)
    finally:
        await admin.close()


def _service_env(database: str, port: int, metrics_port: int, secret: str) -> dict[str, str]:
    postgres = urlsplit(ADMIN_DSN)
    return {
        **os.environ,
        "ENV": "test",
        "LOG_FORMAT": "json",
        "DATA_DIR": tempfile.mkdtemp(prefix="probe-latency-"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "METRICS_PORT": str(metrics_port),
        "POSTGRES__HOST": postgres.hostname or "127.0.0.1",
        "POSTGRES__PORT": str(postgres.port or 5432),
        "POSTGRES__AUTH__USER": postgres.username or "postgres",
        "POSTGRES__DB_NAME": database,
        "SECRET": secret,
        "INTEGRATION_CRYPTO_KEY": generate_key(),
        "EGRESS_ALLOW": "127.0.0.0/8",
    }


@contextmanager
def running(cgroup: Path | None, busy_loop: bool) -> Iterator[Running]:
    """The fake provider on CPU 1; the service (and the busy loop) on CPU 0, in the cgroup."""
    database = "probe_latency_" + secrets.token_hex(4)
    asyncio.run(_database(database, create=True))
    started: list[subprocess.Popen[bytes]] = []
    try:
        upstream_command = ["taskset", "-c", "1", sys.executable, str(TOOLS / "bench_upstream.py")]
        upstream = subprocess.Popen(upstream_command, stdout=subprocess.PIPE)
        started.append(upstream)
        assert upstream.stdout is not None
        upstream_port = int(json.loads(upstream.stdout.readline())["port"])
        port, metrics_port, secret = _free_port(), _free_port(), secrets.token_urlsafe(48)
        service = subprocess.Popen(
            _in_cgroup(f"{sys.executable} -m integration_api.cli serve", cgroup),
            env=_service_env(database, port, metrics_port, secret),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(service)
        if busy_loop:
            started.append(
                subprocess.Popen(_in_cgroup(f"{sys.executable} -c 'while 1: pass'", cgroup))
            )
        yield Running(service, f"127.0.0.1:{port}", metrics_port, upstream_port, secret)
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(60)
        asyncio.run(_database(database, create=False))


async def _service_client(run: Running) -> ServiceClient:
    """A client of the service with a stored credential that points at the fake provider."""
    async with grpc.aio.insecure_channel(run.address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 60)
        token = mint_token(run.secret, organization_id="o", project_id="p", user_id="bench")
        metadata = (("authorization", f"Bearer {token}"),)
        openai = PROVIDERS["openai"]
        base_url = openai.base_url(run.upstream_port)
        credential = await store_credential(channel, metadata, openai, base_url)
    chat = ChatRequest(credential_id=credential, messages=[Message(role=Role.USER, text="Hi")])
    channels = tuple(grpc.aio.insecure_channel(run.address) for _ in range(4))
    return ServiceClient(channels, metadata, bytes(chat), b"")


async def measure(run: Running, concurrency: int, seconds: float) -> dict[str, object]:
    client = await _service_client(run)
    done = [0]
    tasks = await _load(client, concurrency, done)
    await asyncio.sleep(3 if concurrency else 0)  # the load settles
    cpu, started, streams = _cpu_seconds(run.service.pid), time.monotonic(), done[0]
    figures = await _probe_in_a_process(run.address, run.metrics_port, seconds)
    elapsed = time.monotonic() - started
    figures["service_cpu"] = round((_cpu_seconds(run.service.pid) - cpu) / elapsed, 2)
    figures["streams_per_second"] = round((done[0] - streams) / elapsed, 1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for channel in client.channels:
        await channel.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=64, help="streams at once (0: idle)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--quota", type=float, help="CPUs the cgroup may use (needs root)")
    parser.add_argument("--busy", action="store_true", help="a busy loop beside the service")
    parser.add_argument("--cgroup", type=Path, default=Path("/sys/fs/cgroup/cpu/probe-latency"))
    parser.add_argument(
        "--probe", nargs=2, metavar=("ADDRESS", "METRICS_PORT"), help=argparse.SUPPRESS
    )
    arguments = parser.parse_args()
    if arguments.probe:
        address, metrics_port = arguments.probe
        print(json.dumps(probe(address, int(metrics_port), arguments.seconds)))
        return
    with (
        _cgroup(arguments.cgroup, arguments.quota) as cgroup,
        running(cgroup, arguments.busy) as run,
    ):
        figures = asyncio.run(measure(run, arguments.concurrency, arguments.seconds))
    figures.update(quota=arguments.quota, busy=arguments.busy, concurrency=arguments.concurrency)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
