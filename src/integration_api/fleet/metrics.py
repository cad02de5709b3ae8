"""One /metrics for every worker: prometheus_client's multiprocess mode.

Each worker writes its samples to memory-mapped files in a directory the supervisor creates
(`PROMETHEUS_MULTIPROC_DIR`, which must be set before a worker imports prometheus_client: the
workers are started after it is). The supervisor serves /metrics on METRICS_PORT, summing the
counters and histograms of every worker, living or dead, so totals never go backwards when a
worker restarts; gauges say how they combine where they are declared. The directory is removed
when the supervisor stops.

The same port answers the probes (`/healthz/`, `/readiness/`) and the build-info and readiness
gauges for the whole fleet, from the state the supervisor keeps of its workers
(`fleet/readiness.py`); the workers write no such gauges of their own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess

from integration_api.server.metrics import Exposition, ServiceGauges
from integration_api.server.metrics_port import MetricsPort, StateSource

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class FleetMetrics:
    def __init__(self, host: str, port: int, state: StateSource) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="integration-api-metrics-"))
        os.environ[MULTIPROCESS_DIR_VARIABLE] = str(self.directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.directory))  # type: ignore[no-untyped-call]
        exposition = Exposition([registry, ServiceGauges(state)])
        try:
            self._port = MetricsPort(host, port, exposition, state)
        except BaseException:
            self._remove_directory()
            raise
        self.port = self._port.port

    def worker_exited(self, pid: int) -> None:
        """Drops the exited worker's live gauges (in-flight RPCs); its counters stay counted."""
        multiprocess.mark_process_dead(pid, str(self.directory))  # type: ignore[no-untyped-call]

    def close(self) -> None:
        self._port.close()
        self._remove_directory()

    def _remove_directory(self) -> None:
        os.environ.pop(MULTIPROCESS_DIR_VARIABLE, None)
        shutil.rmtree(self.directory, ignore_errors=True)
