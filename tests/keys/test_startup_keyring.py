"""A service whose keyring cannot decrypt what the database holds stays NOT_SERVING and says
which key id is missing; given that key, it serves."""

from __future__ import annotations

import asyncio
import signal
import socket
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from integration_api.store.database import ConnectionPool
from integration_api.vault import Envelope, Keyring, generate_key
from tests.keys.support import CLI, cli_environment, seal_credentials
from tests.support.health_client import check_status

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve_environment(
    tmp_path: Path, dsn: str, primary: str, decrypt_only: str = ""
) -> dict[str, str]:
    return cli_environment(
        tmp_path,
        dsn,
        primary,
        decrypt_only,
        HOST="127.0.0.1",
        PORT=str(_free_port()),
        METRICS_PORT="0",
        READINESS_INTERVAL_SECONDS="0.2",
        LOG_FORMAT="json",
    )


async def _health(address: str) -> int | None:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            return await check_status(channel, timeout=1)
        except grpc.aio.AioRpcError:
            return None


async def _read_until(stream: asyncio.StreamReader, needle: str, seconds: float) -> str:
    seen: list[str] = []
    async with asyncio.timeout(seconds):
        while needle not in (line := (await stream.readline()).decode()):
            if not line:
                raise AssertionError("the service exited:\n" + "".join(seen))
            seen.append(line)
    return line


async def _stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), 30)


async def test_missing_key_keeps_the_service_not_serving_until_restarted_with_it(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    old, new = generate_key(), generate_key()
    old_key_id = Keyring.from_settings(old).primary_key_id
    await seal_credentials(pool, Envelope(Keyring.from_settings(old)), 2)

    env = _serve_environment(tmp_path, empty_database_dsn, new)
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        assert process.stdout is not None
        line = await _read_until(process.stdout, "dependency not ready", 30)
        assert '"dependency": "keyring"' in line
        assert old_key_id in line
        assert old not in line and new not in line
        await asyncio.sleep(0.5)  # a few more readiness rounds: still not serving
        assert await _health(f"127.0.0.1:{env['PORT']}") == NOT_SERVING
    finally:
        await _stop(process)

    env = _serve_environment(tmp_path, empty_database_dsn, new, old)
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        for _attempt in range(100):
            if await _health(f"127.0.0.1:{env['PORT']}") == SERVING:
                break
            await asyncio.sleep(0.1)
        assert await _health(f"127.0.0.1:{env['PORT']}") == SERVING
    finally:
        await _stop(process)
