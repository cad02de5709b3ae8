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
    # With several workers: the sum over the workers that are running.
    multiprocess_mode="livesum",
)


VAULT_ENCRYPTIONS = Counter(
    "integration_api_vault_encryptions_total",
    "Encryptions by key id. Random 96-bit nonces stay safe far below 2**32 encryptions per "
    "key: alert on the fleet-wide sum per key id well before that (e.g. 2**30) and rotate.",
    ["key_id"],
)


def count_encryption(key_id: str) -> None:
    VAULT_ENCRYPTIONS.labels(key_id).inc()


class MetricsEndpoint:
    """The Prometheus exposition endpoint (`/metrics`), in a thread of its own."""

    def __init__(self, host: str, port: int) -> None:
        self._server, self._thread = start_http_server(port, addr=host)
        self.port = int(self._server.server_port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
