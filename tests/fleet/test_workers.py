"""`integration-api serve --workers N`: one port and one /metrics for every worker, a dead worker
replaced while the others serve, a worker that cannot start failing the whole start, and no
worker outliving its supervisor."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2

from tests.fleet.processes import environment, free_port, launched, port_is_free, wait_serving
from tests.support.health_client import check_status

HEALTH_CHECKS = re.compile(
    r'^integration_api_grpc_requests_total\{code="OK",method="/grpc.health.v1.Health/Check"\} '
    r"([0-9.]+)$",
    re.MULTILINE,
)


async def _check_on_fresh_connections(address: str, count: int) -> None:
    """Each call on a connection of its own, so the kernel spreads them over the workers."""
    for _ in range(count):
        async with grpc.aio.insecure_channel(address) as channel:
            assert await check_status(channel, timeout=2) == health_pb2.HealthCheckResponse.SERVING


async def _health_checks_counted(metrics_url: str, at_least: float) -> float:
    async with httpx.AsyncClient() as client:
        for _attempt in range(50):
            found = HEALTH_CHECKS.search((await client.get(metrics_url)).text)
            counted = float(found.group(1)) if found else 0.0
            if counted >= at_least:
                return counted
            await asyncio.sleep(0.1)
    raise AssertionError(f"/metrics counted {counted} health checks, expected {at_least}")


async def _callback_answers(url: str) -> bool:
    async with httpx.AsyncClient() as client:
        return (await client.get(url, params={"state": "unknown", "code": "x"})).status_code < 500


async def _wait_for(condition_met: object, what: str, seconds: float = 15) -> None:
    for _attempt in range(int(seconds * 10)):
        if callable(condition_met) and condition_met():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_workers_share_the_ports_and_one_metrics_endpoint_and_a_dead_one_is_replaced(
    tmp_path: Path, empty_database_dsn: str
) -> None:
    metrics_port, callback_port = free_port(), free_port()
    (tmp_path / "tmp").mkdir()
    env = environment(
        tmp_path,
        empty_database_dsn,
        METRICS_PORT=str(metrics_port),
        TMPDIR=str(tmp_path / "tmp"),
        OAUTH_CALLBACK_URL=f"http://127.0.0.1:{callback_port}/oauth/callback",
        OAUTH_CALLBACK_PORT=str(callback_port),
    )
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    callback_url = f"http://127.0.0.1:{callback_port}/oauth/callback/google"
    async with launched(env, tmp_path / "fleet.log", "--workers", "2") as fleet:
        await wait_serving(fleet)
        await _wait_for(lambda: len(fleet.events("serving")) == 3, "both workers serving")
        before = await _health_checks_counted(metrics_url, 1)
        await _check_on_fresh_connections(fleet.address, 20)
        counted = await _health_checks_counted(metrics_url, before + 20)
        assert counted == before + 20
        assert await _callback_answers(callback_url)

        first_pid = fleet.worker_pids()[0]
        os.kill(first_pid, signal.SIGKILL)
        await _wait_for(lambda: bool(fleet.events("worker died; restarting it")), "the death")
        await _check_on_fresh_connections(fleet.address, 10)  # the other worker serves alone
        assert await _callback_answers(callback_url)
        await _wait_for(lambda: fleet.worker_pids()[0] != first_pid, "a new worker 0")
        await _wait_for(lambda: len(fleet.events("serving")) == 4, "the new worker serving")
        # The dead worker's counts stay in the sum: totals never go backwards.
        assert await _health_checks_counted(metrics_url, counted + 10) >= counted + 10

        fleet.process.send_signal(signal.SIGTERM)
        assert await fleet.wait_exit() == 0, fleet.output()
    assert len(fleet.events("migrations applied")) == 1
    assert list((tmp_path / "tmp").iterdir()) == []  # the metrics directory is removed


async def test_a_worker_that_cannot_start_ends_serve_with_a_non_zero_status(
    tmp_path: Path, postgres_dsn: str
) -> None:
    bad_key = "not-an-encryption-key-4fz9"
    env = environment(tmp_path, postgres_dsn, INTEGRATION_CRYPTO_KEY=bad_key)
    async with launched(env, tmp_path / "fleet.log", "--workers", "2") as fleet:
        code = await fleet.wait_exit()
    assert code != 0
    assert fleet.events("a worker cannot start; stopping every worker")
    assert "integration-api: INTEGRATION_CRYPTO_KEY must be" in fleet.output()
    assert bad_key not in fleet.output()


async def test_workers_stop_serving_when_their_supervisor_is_killed(
    tmp_path: Path, postgres_dsn: str
) -> None:
    env = environment(tmp_path, postgres_dsn, SHUTDOWN_GRACE_SECONDS="2")
    port = int(env["PORT"])
    async with launched(env, tmp_path / "fleet.log", "--workers", "2") as fleet:
        await wait_serving(fleet)
        fleet.process.send_signal(signal.SIGKILL)
        await fleet.wait_exit()
        # Only the workers could still hold the port; they drain and let it go.
        await _wait_for(lambda: port_is_free(port), "the workers to leave the port", 10)
