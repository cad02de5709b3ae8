"""grpc.health.v1 reflects real readiness: database reachable, and NOT_SERVING on shutdown."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import ListCredentialsRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.support.health_client import check_status, next_status, watch
from tests.support.service import running_service
from tests.support.tcp_proxy import TcpProxy

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICES = [
    "",
    "integration.v1.CredentialService",
    "integration.v1.LlmService",
    "integration.v1.EmbeddingService",
    "integration.v1.OAuthService",
    "integration.v1.OperationsService",
]


async def _status(channel: grpc.aio.Channel, service: str) -> int:
    return await check_status(channel, service)


@pytest.mark.parametrize("service_name", SERVICES)
async def test_every_service_is_serving_when_dependencies_are_ready(
    postgres_dsn: str, service_name: str
) -> None:
    async with running_service(postgres_dsn) as service:
        assert await _status(service.channel, service_name) == SERVING


async def test_unknown_service_is_not_found(postgres_dsn: str) -> None:
    async with running_service(postgres_dsn) as service:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _status(service.channel, "integration.v1.NoSuchService")
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_not_serving_while_database_is_gone_and_serving_when_back(
    postgres_dsn: str,
) -> None:
    proxy = TcpProxy.in_front_of(postgres_dsn)
    await proxy.start()
    async with running_service(proxy.dsn_through(postgres_dsn)) as service:
        watcher = watch(service.channel, "")
        seen = [await next_status(watcher)]
        assert seen == [SERVING]
        await proxy.cut()
        seen.append(await asyncio.wait_for(next_status(watcher), 10))
        assert seen[-1] == NOT_SERVING
        assert await _status(service.channel, "integration.v1.CredentialService") == NOT_SERVING
        # Calls meanwhile fail fast and say "retry", not INTERNAL.
        stub = CredentialServiceStub(service.channel)
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.list_credentials(ListCredentialsRequest(), metadata=service.auth())
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 5
        await proxy.start()  # the same port again: the database is back
        seen.append(await asyncio.wait_for(next_status(watcher), 10))
        assert seen == [SERVING, NOT_SERVING, SERVING]
        watcher.cancel()
    await proxy.cut()


async def test_not_serving_until_database_is_reachable(postgres_dsn: str) -> None:
    proxy = TcpProxy.in_front_of(postgres_dsn)
    await proxy.start()
    await proxy.cut()  # port reserved, nothing listening: the database is not there yet
    async with running_service(proxy.dsn_through(postgres_dsn)) as service:
        assert await _status(service.channel, "") == NOT_SERVING
        await proxy.start()
        for _attempt in range(50):
            if await _status(service.channel, "") == SERVING:
                break
            await asyncio.sleep(0.1)
        assert await _status(service.channel, "") == SERVING
    await proxy.cut()


async def test_shutdown_turns_watchers_not_serving_first(postgres_dsn: str) -> None:
    async with running_service(postgres_dsn) as service:
        watcher = watch(service.channel, "integration.v1.LlmService")
        assert await next_status(watcher) == SERVING
        stopping = asyncio.create_task(service.app.stop(grace_seconds=2.0))
        assert await asyncio.wait_for(next_status(watcher), 5) == NOT_SERVING
        await stopping


async def test_metrics_endpoint_counts_rpcs_by_method_and_code(postgres_dsn: str) -> None:
    import socket

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    async with running_service(postgres_dsn, metrics_port=metrics_port) as service:
        await _status(service.channel, "")
        async with httpx.AsyncClient() as client:
            page = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    assert (
        'integration_api_grpc_requests_total{code="OK",method="/grpc.health.v1.Health/Check"}'
        in page
    )
    assert "integration_api_grpc_request_duration_seconds_bucket" in page
