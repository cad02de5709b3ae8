"""Prometheus metrics of the gRPC surface, served on their own port."""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version

import grpc
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from integration_api.server.metrics_port import MetricsPort, StateSource

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

# The labelled series per method and code: looking labels up takes a lock and builds a key on
# every call. Only registered methods reach here (grpc answers the rest itself), so it is bounded.
_rpc_series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}


def record_rpc(method: str, code: str, seconds: float) -> None:
    """One finished RPC: counted by method and code, its duration observed by method."""
    series = _rpc_series.get((method, code))
    if series is None:
        series = _rpc_series[(method, code)] = (
            RPCS.labels(method, code),
            RPC_DURATION.labels(method),
        )
    count, duration = series
    count.inc()
    duration.observe(seconds)


VAULT_ENCRYPTIONS = Counter(
    "integration_api_vault_encryptions_total",
    "Encryptions by key id. Random 96-bit nonces stay safe far below 2**32 encryptions per "
    "key: alert on the fleet-wide sum per key id well before that (e.g. 2**30) and rotate.",
    ["key_id"],
)


def count_encryption(key_id: str) -> None:
    VAULT_ENCRYPTIONS.labels(key_id).inc()


def _service_version() -> str:
    try:
        return version("integration-api")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class ServiceGauges:
    """`integration_api_build_info` and `integration_api_ready`, computed at each scrape from the
    same state the probes answer, so the gauge and `/readiness/` never disagree (with workers,
    the supervisor's state for the whole fleet)."""

    def __init__(self, state: StateSource) -> None:
        self._state = state
        self._build = {
            "version": _service_version(),
            "python": platform.python_version(),
            "grpcio": grpc.__version__,
        }

    def collect(self) -> Iterator[Metric]:
        build = GaugeMetricFamily(
            "integration_api_build_info",
            "Always 1; the labels name the running service's version and runtime.",
            labels=list(self._build),
        )
        build.add_metric(list(self._build.values()), 1)
        yield build
        yield GaugeMetricFamily(
            "integration_api_ready",
            "1 while /readiness/ answers 200 (SERVING), 0 otherwise.",
            value=1 if self._state().serving else 0,
        )


class Exposition:
    """What /metrics shows: the metrics of several collectors, in order."""

    def __init__(self, parts: Iterable[Collector]) -> None:
        self._parts = list(parts)

    def collect(self) -> Iterator[Metric]:
        for part in self._parts:
            yield from part.collect()


class MetricsEndpoint:
    """`/metrics` of this process, with the probes of `state`, in a thread of its own."""

    def __init__(self, host: str, port: int, state: StateSource) -> None:
        exposition = Exposition([REGISTRY, ServiceGauges(state)])
        self._port = MetricsPort(host, port, exposition, state)
        self.port = self._port.port

    def close(self) -> None:
        self._port.close()
