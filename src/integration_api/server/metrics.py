"""Prometheus metrics of the gRPC surface, served on their own port."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RPCS = Counter(
    "integration_api_grpc_requests_total",
    "RPCs handled, by method and status code.",
    ["method", "code"],
)
RPC_DURATION = Histogram(
    "integration_api_grpc_request_duration_seconds",
    "Time from receiving an RPC to its status, by method.",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RPCS_IN_FLIGHT = Gauge(
    "integration_api_grpc_requests_in_flight",
    "RPCs currently being handled.",
)


def serve_metrics(host: str, port: int) -> int:
    """Starts the exposition endpoint; returns the bound port (0 disables metrics)."""
    if port == 0:
        return 0
    server, _thread = start_http_server(port, addr=host)
    return int(server.server_port)
