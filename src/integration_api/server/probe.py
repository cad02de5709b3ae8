"""A tiny gRPC health probe (for Docker's HEALTHCHECK and scripts): exit 0 when SERVING.

Without `--address` it asks the port the service listens on (PORT, default 9004) on HOST, or on
loopback when HOST is a wildcard (the default 0.0.0.0): a probe runs beside the service. Every
answer but SERVING names the address that was asked, so a probe at the wrong port says so.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

import grpc
from grpc_health.v1 import health_pb2

from integration_api.config.values import read_int

DEFAULT_PORT = 9004
# A wildcard listens on every interface, so the probe asks loopback of the same family.
_LOOPBACK_FOR_WILDCARD = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - a wildcard is matched, not bound


def default_address(env: Mapping[str, str] | None = None) -> str:
    """`host:port` of the service as HOST and PORT configure it, wildcards made loopback."""
    env = os.environ if env is None else env
    port = read_int(env, "PORT", DEFAULT_PORT)
    host = env.get("HOST", "").strip() or "0.0.0.0"  # noqa: S104 - the service's default
    host = _LOOPBACK_FOR_WILDCARD.get(host, host)
    return f"{_bracketed(host)}:{port}"


def _bracketed(host: str) -> str:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]" if literal.version == 6 else host


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
        print(f"unhealthy: {error.code().name} at {address}")
        return 1
    if reply.status == health_pb2.HealthCheckResponse.SERVING:
        print("SERVING")
        return 0
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"unhealthy: {status} at {address}")
    return 1
