"""The HTTP probes on the metrics port answer as gRPC health does: SERVING, NOT_SERVING with the
reason while a dependency fails, and NOT_SERVING from the first moment of a drain; /metrics
carries the build-info and readiness gauges."""

from __future__ import annotations

import asyncio
import platform
import re
import socket
import threading
import time
from importlib.metadata import version

import grpc
import httpx
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import ChatChunk, ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.fakes.replay import ReplayServer, Reply
from tests.llm.support import user_says
from tests.llm.upstreams import key_for, store_credential
from tests.support.health_client import check_status
from tests.support.service import running_service
from tests.support.tcp_proxy import TcpProxy

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
BUILD_INFO = re.compile(r"^integration_api_build_info\{(.*)\} 1\.0$", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _get(client: httpx.AsyncClient, port: int, path: str) -> httpx.Response:
    return await client.get(f"http://127.0.0.1:{port}{path}")


async def test_probes_and_gauges_of_a_serving_service(postgres_dsn: str) -> None:
    port = _free_port()
    async with running_service(postgres_dsn, metrics_port=port), httpx.AsyncClient() as client:
        assert (await _get(client, port, "/healthz/")).status_code == 200
        ready = await _get(client, port, "/readiness/")
        assert (ready.status_code, ready.json()) == (200, {"status": "SERVING"})
        assert (await _get(client, port, "/healthz/nope")).status_code == 404
        page = (await _get(client, port, "/metrics")).text
    build = BUILD_INFO.search(page)
    assert build is not None, page
    labels = dict(re.findall(r'(\w+)="([^"]*)"', build.group(1)))
    assert labels["version"] == version("integration-api")
    assert labels["python"] == platform.python_version()
    assert labels["grpcio"] == grpc.__version__
    assert re.search(r"^integration_api_ready 1\.0$", page, re.MULTILINE)


async def test_readiness_answers_503_with_the_reason_while_the_database_is_unreachable(
    postgres_dsn: str,
) -> None:
    proxy = TcpProxy.in_front_of(postgres_dsn)
    await proxy.start()
    port = _free_port()
    async with (
        running_service(proxy.dsn_through(postgres_dsn), metrics_port=port) as service,
        httpx.AsyncClient() as client,
    ):
        assert (await _get(client, port, "/readiness/")).status_code == 200
        await proxy.cut()
        for _attempt in range(100):
            ready = await _get(client, port, "/readiness/")
            if ready.status_code != 200:
                break
            await asyncio.sleep(0.1)
        assert ready.status_code == 503
        assert ready.json()["status"] == "NOT_SERVING"
        assert ready.json()["reason"].startswith("database: ")
        # The same answer as gRPC health; the process itself is alive.
        assert await check_status(service.channel, "") == NOT_SERVING
        assert (await _get(client, port, "/healthz/")).status_code == 200
        page = (await _get(client, port, "/metrics")).text
        assert re.search(r"^integration_api_ready 0\.0$", page, re.MULTILINE)
        await proxy.start()
        for _attempt in range(100):
            if (await _get(client, port, "/readiness/")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await _get(client, port, "/readiness/")).status_code == 200
    await proxy.cut()


async def test_readiness_answers_503_from_the_first_moment_of_a_drain(
    empty_database_dsn: str,
) -> None:
    port = _free_port()
    async with (
        ReplayServer("openai") as replay,
        running_service(
            empty_database_dsn, metrics_port=port, shutdown_grace_seconds=10.0
        ) as service,
        httpx.AsyncClient() as client,
    ):
        credential_id = await store_credential(
            service, "openai", replay.base_url, key_for("openai")
        )
        replay.play(Reply("text.sse", event_delay=0.05))  # the answer takes a while
        call = LlmServiceStub(service.channel).chat(
            ChatRequest(credential_id=credential_id, messages=user_says()),
            metadata=service.auth(),
        )
        assert await call.read() is not grpc.aio.EOF
        stopping = asyncio.create_task(service.app.stop())
        await asyncio.sleep(0)  # the stop has begun; the stream is still in flight
        ready, alive = (
            await _get(client, port, "/readiness/"),
            await _get(client, port, "/healthz/"),
        )
        assert (ready.status_code, ready.json()["reason"]) == (503, "draining")
        assert alive.status_code == 503
        while isinstance(await call.read(), ChatChunk):
            pass
        await stopping
    assert await call.code() == grpc.StatusCode.OK


async def test_probes_fail_while_the_event_loop_is_stalled(postgres_dsn: str) -> None:
    port = _free_port()
    async with running_service(postgres_dsn, metrics_port=port) as service:
        assert service.app.readiness is not None
        service.app.readiness.stall_after_seconds = 0.3
        url = f"http://127.0.0.1:{port}/healthz/"
        answers: list[httpx.Response] = []
        # A thread asks while this coroutine blocks the loop: no check can complete meanwhile.
        asker = threading.Timer(0.6, lambda: answers.append(httpx.get(url)))
        asker.start()
        time.sleep(0.8)  # noqa: ASYNC251 - blocking the event loop is the point
        asker.join()
        assert answers[0].status_code == 503
        assert answers[0].json()["reason"].startswith("event loop stalled: no readiness check")
        for _attempt in range(50):  # the loop runs again: the next check ends the stall
            await asyncio.sleep(0.1)
            if (await asyncio.to_thread(httpx.get, url)).status_code == 200:
                break
        assert (await asyncio.to_thread(httpx.get, url)).status_code == 200
