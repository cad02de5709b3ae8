"""The gRPC health names for liveness and readiness answer as a probe needs them to (gRPC clients,
meshes and `health-probe` ask them; the Deployment probes the same state over HTTP)."""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health_pb2

from integration_api.server.readiness import LIVENESS_SERVICE
from tests.support.health_client import check_status, next_status, watch
from tests.support.service import running_service
from tests.support.tcp_proxy import TcpProxy

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_liveness_stays_serving_while_the_database_is_gone(postgres_dsn: str) -> None:
    proxy = TcpProxy.in_front_of(postgres_dsn)
    await proxy.start()
    async with running_service(proxy.dsn_through(postgres_dsn)) as service:
        readiness = watch(service.channel, "")
        assert await next_status(readiness) == SERVING
        await proxy.cut()
        assert await asyncio.wait_for(next_status(readiness), 10) == NOT_SERVING
        # Out of rotation, but not restarted: the process itself is fine.
        assert await check_status(service.channel, LIVENESS_SERVICE) == SERVING
        readiness.cancel()
    await proxy.cut()


async def test_liveness_turns_not_serving_when_the_drain_begins(postgres_dsn: str) -> None:
    async with running_service(postgres_dsn) as service:
        liveness = watch(service.channel, LIVENESS_SERVICE)
        assert await next_status(liveness) == SERVING
        stopping = asyncio.create_task(service.app.stop(grace_seconds=1.0))
        assert await asyncio.wait_for(next_status(liveness), 5) == NOT_SERVING
        await stopping
