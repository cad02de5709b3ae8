"""Transport limits hold: oversized messages are refused before any handler runs."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import GetCredentialRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.config import GrpcLimits
from tests.support.health_client import next_status, watch
from tests.support.service import running_service

SERVING = health_pb2.HealthCheckResponse.SERVING


async def test_request_over_the_message_limit_is_resource_exhausted(postgres_dsn: str) -> None:
    async with running_service(postgres_dsn, grpc=GrpcLimits(max_message_bytes=2048)) as service:
        stub = CredentialServiceStub(service.channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.get_credential(GetCredentialRequest(id="x" * 4096), metadata=service.auth())
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        with pytest.raises(grpc.aio.AioRpcError) as small:
            await stub.get_credential(GetCredentialRequest(id="x" * 100), metadata=service.auth())
        assert small.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_client_pinging_too_often_is_cut_off_and_a_polite_one_is_not(
    postgres_dsn: str,
) -> None:
    limits = GrpcLimits(keepalive_min_ping_interval_seconds=10)
    eager = [
        ("grpc.keepalive_time_ms", 100),
        ("grpc.keepalive_timeout_ms", 1000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        grpc.aio.insecure_channel(service.address, options=eager) as pushy,
        grpc.aio.insecure_channel(service.address) as polite,
    ):
        pushy_watch, polite_watch = watch(pushy), watch(polite)
        assert await next_status(pushy_watch) == SERVING
        assert await next_status(polite_watch) == SERVING
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await asyncio.wait_for(next_status(pushy_watch), 10)
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
        assert polite_watch.done() is False
        polite_watch.cancel()
