"""`serve --workers 2`: the supervisor's metrics port answers the probes for the whole fleet,
ready only while every worker that listens is SERVING, and not ready from the first moment of
a drain; the readiness and build-info gauges appear once, for the fleet."""

from __future__ import annotations

import asyncio
import math
import re
import signal
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2

from integration_api.fleet.readiness import DRAINING, STARTING, fleet_state, stalled_workers
from integration_api.server.metrics_port import ProbeState
from integration_api.server.readiness import Report
from tests.fleet.processes import environment, free_port, launched, wait_serving
from tests.support.health_client import next_status, watch
from tests.support.tcp_proxy import TcpProxy

READY_GAUGE = re.compile(r"^integration_api_ready ([0-9.]+)$", re.MULTILINE)


async def _readiness_until(client: httpx.AsyncClient, url: str, status: int) -> httpx.Response:
    for _attempt in range(150):
        answer = await client.get(url)
        if answer.status_code == status:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} kept answering {answer.status_code}: {answer.text}")


async def test_the_supervisor_answers_the_probes_for_every_worker(
    tmp_path: Path, empty_database_dsn: str
) -> None:
    proxy = TcpProxy.in_front_of(empty_database_dsn)
    await proxy.start()
    port = free_port()
    env = environment(
        tmp_path,
        proxy.dsn_through(empty_database_dsn),
        METRICS_PORT=str(port),
        SHUTDOWN_GRACE_SECONDS="3",
    )
    base = f"http://127.0.0.1:{port}"
    async with (
        launched(env, tmp_path / "fleet.log", "--workers", "2") as fleet,
        httpx.AsyncClient() as client,
    ):
        await wait_serving(fleet)
        for _attempt in range(150):  # the supervisor's line, and one from each worker
            if len(fleet.events("serving")) == 3:
                break
            await asyncio.sleep(0.1)
        ready = await _readiness_until(client, f"{base}/readiness/", 200)
        assert ready.json() == {"status": "SERVING"}
        assert (await client.get(f"{base}/healthz/")).status_code == 200
        assert (await client.get(f"{base}/")).status_code == 404
        page = (await client.get(f"{base}/metrics")).text
        assert READY_GAUGE.findall(page) == ["1.0"]
        assert page.count("\nintegration_api_build_info{") == 1

        await proxy.cut()
        not_ready = await _readiness_until(client, f"{base}/readiness/", 503)
        assert not_ready.json()["status"] == "NOT_SERVING"
        assert re.match(r"worker [01]: database: ", not_ready.json()["reason"])
        assert READY_GAUGE.findall((await client.get(f"{base}/metrics")).text) == ["0.0"]
        assert (await client.get(f"{base}/healthz/")).status_code == 200
        await proxy.start()
        await _readiness_until(client, f"{base}/readiness/", 200)

        # A Watch stream keeps one worker draining for the grace period after SIGTERM.
        async with grpc.aio.insecure_channel(fleet.address) as channel:
            watcher = watch(channel, "")
            assert await next_status(watcher) == health_pb2.HealthCheckResponse.SERVING
            fleet.process.send_signal(signal.SIGTERM)
            draining = await _readiness_until(client, f"{base}/readiness/", 503)
            assert draining.json()["reason"] == "draining"
            assert (await client.get(f"{base}/healthz/")).status_code == 503
            watcher.cancel()
        assert await fleet.wait_exit() == 0, fleet.output()
    await proxy.cut()


def _reported(state: ProbeState, at: float = 100.0) -> tuple[Report, float]:
    return Report(state, stall_after_seconds=30.0), at


def test_the_fleet_is_ready_only_when_every_listening_worker_serves() -> None:
    serving = ProbeState(alive=True, serving=True)
    starting = ProbeState(alive=True, serving=False, reason="database: not checked yet")
    assert fleet_state({}, stopping=False, now=100) == STARTING
    # Worker 1 is not listening yet: it takes no connections.
    assert fleet_state({0: _reported(serving)}, stopping=False, now=100).serving
    both = {0: _reported(serving), 1: _reported(starting)}
    assert fleet_state(both, stopping=False, now=100) == ProbeState(
        alive=True, serving=False, reason="worker 1: database: not checked yet"
    )
    assert fleet_state({0: _reported(serving)}, stopping=True, now=100) == DRAINING


def test_a_worker_silent_for_longer_than_its_reports_allow_makes_the_fleet_not_ready() -> None:
    serving = ProbeState(alive=True, serving=True)
    reports = {0: _reported(serving, at=100.0), 1: _reported(serving, at=160.0)}
    assert fleet_state(reports, stopping=False, now=129.0).serving
    state = fleet_state(reports, stopping=False, now=161.0)
    assert (state.alive, state.serving) == (True, False)
    assert state.reason == "worker 0: event loop stalled: no report for 61 s"


def test_the_workers_to_replace_are_the_silent_ones() -> None:
    serving = ProbeState(alive=True, serving=True)
    draining = Report(ProbeState(alive=False, serving=False, reason="draining"), math.inf)
    reports = {
        0: _reported(serving, at=100.0),
        1: _reported(serving, at=125.0),
        2: (draining, 0.0),  # a draining worker stops checking: never a stall
    }
    assert stalled_workers(reports, now=140.0) == {0: 40.0}
