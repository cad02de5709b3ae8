"""Typed calls of grpc.health.v1 (the generated stub's typing lacks its methods)."""

from __future__ import annotations

import grpc.aio
from grpc_health.v1 import health_pb2

CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"
Request = health_pb2.HealthCheckRequest
Response = health_pb2.HealthCheckResponse


async def check_status(
    channel: grpc.aio.Channel,
    service: str = "",
    timeout: float = 5,  # noqa: ASYNC109 - the gRPC deadline, not an asyncio timeout
) -> int:
    call = channel.unary_unary(
        CHECK,
        request_serializer=Request.SerializeToString,
        response_deserializer=Response.FromString,
    )
    reply: Response = await call(Request(service=service), timeout=timeout)
    return int(reply.status)


def watch(
    channel: grpc.aio.Channel, service: str = ""
) -> grpc.aio.UnaryStreamCall[Request, Response]:
    call = channel.unary_stream(
        WATCH,
        request_serializer=Request.SerializeToString,
        response_deserializer=Response.FromString,
    )
    return call(Request(service=service))  # type: ignore[return-value]


async def next_status(watcher: grpc.aio.UnaryStreamCall[Request, Response]) -> int:
    """The next status a Watch stream reports (it must not have ended)."""
    update = await watcher.read()
    assert isinstance(update, Response), "the Watch stream ended"
    return int(update.status)
