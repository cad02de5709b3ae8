"""Service processes for the fleet tests: `integration-api serve` (with or without --workers)
started as the operator starts it, its JSON log kept in a file the test reads."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
from grpc_health.v1 import health_pb2

from tests.support.health_client import check_status
from tests.support.service import LOOPBACK_EGRESS_ALLOW

CLI = [sys.executable, "-m", "integration_api.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def environment(data_dir: Path, dsn: str, **extra: str) -> dict[str, str]:
    parts = urlsplit(dsn)
    ours = ("POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO", "OAUTH_", "WORKERS")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        ENV="test",
        LOG_FORMAT="json",
        DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(free_port()),
        METRICS_PORT="0",
        POSTGRES__HOST=parts.hostname or "127.0.0.1",
        POSTGRES__PORT=str(parts.port or 5432),
        POSTGRES__DB_NAME=parts.path.lstrip("/"),
        POSTGRES__AUTH__USER=parts.username or "postgres",
        READINESS_INTERVAL_SECONDS="0.2",
        EGRESS_ALLOW=",".join(LOOPBACK_EGRESS_ALLOW),
    )
    env.update(extra)
    return env


@dataclass
class ServiceProcess:
    process: asyncio.subprocess.Process
    address: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log lines whose event is `name`, from the supervisor and its workers."""
        found = []
        for line in self.output().splitlines():
            with suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("event") == name:
                    found.append(entry)
        return found

    def worker_pids(self) -> dict[int, int]:
        """The latest pid of each worker, as the supervisor logged them."""
        return {entry["worker"]: entry["pid"] for entry in self.events("worker started")}

    async def wait_exit(self) -> int:
        return await asyncio.wait_for(self.process.wait(), 30)


async def wait_serving(service: ServiceProcess, attempts: int = 300) -> None:
    async with grpc.aio.insecure_channel(service.address) as channel:
        for _attempt in range(attempts):
            if service.process.returncode is not None:
                raise AssertionError(f"the service exited during start-up:\n{service.output()}")
            with suppress(grpc.aio.AioRpcError):
                if await check_status(channel, timeout=1) == health_pb2.HealthCheckResponse.SERVING:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError("the service never became SERVING")


@asynccontextmanager
async def launched(
    env: dict[str, str], log_path: Path, *args: str
) -> AsyncIterator[ServiceProcess]:
    """Starts `integration-api serve ARGS` in a session of its own; whatever of it still runs at
    the end (workers included) is killed."""
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *CLI,
            "serve",
            *args,
            env=env,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    service = ServiceProcess(process, f"127.0.0.1:{env['PORT']}", log_path)
    try:
        yield service
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
