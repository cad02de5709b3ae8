"""A tiny gRPC health probe (for Docker's HEALTHCHECK and scripts): exit 0 when SERVING."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2


def probe(address: str, service: str = "", timeout: float = 3.0) -> int:
    try:
        with grpc.insecure_channel(address) as channel:
            check = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            reply = check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.RpcError as error:
        print(f"unhealthy: {error.code().name}")
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(status)
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1
