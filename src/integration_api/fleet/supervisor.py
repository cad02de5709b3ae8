"""The supervisor of `serve --workers N`: starts the workers, restarts the ones that die, drains
them all on SIGTERM.

A worker that dies after it served is restarted at once (after half a second); one that dies
before it serves is restarted with a doubling delay, and after `MAX_FAILED_STARTS` such deaths in
a row the supervisor gives up loudly and stops the fleet: a worker that cannot start will not
start on the sixth try either, and an orchestrator should see the pod fail. During the first
start any failure is final, so `serve` exits non-zero with the worker's own message.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import structlog

from integration_api.config import Settings
from integration_api.fleet.metrics import FleetMetrics
from integration_api.fleet.readiness import fleet_state, stalled_workers
from integration_api.fleet.worker import READY, run_worker
from integration_api.server.metrics_port import ProbeState
from integration_api.server.readiness import Report

log = structlog.get_logger("integration_api.fleet")

RESTART_DELAY_SECONDS = 0.5
MAX_RESTART_DELAY_SECONDS = 30.0
MAX_FAILED_STARTS = 5
# Beyond the workers' own grace period, before a worker that still runs is killed.
STOP_MARGIN_SECONDS = 5.0
STALL_WATCH_SECONDS = 5.0


@dataclass
class _Worker:
    index: int
    process: BaseProcess
    link: Connection
    ready: bool = False
    # The worker's latest report and when it came; None until the first, sent once it listens.
    report: tuple[Report, float] | None = None


@dataclass
class Supervisor:
    settings: Settings
    count: int
    database_dsn: str
    metrics: FleetMetrics | None = None
    _workers: dict[int, _Worker] = field(default_factory=dict)
    _failed_starts: dict[int, int] = field(default_factory=dict)
    _restarts: list[asyncio.TimerHandle] = field(default_factory=list)
    _started: asyncio.Event = field(default_factory=asyncio.Event)
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _exit_code: int = 0
    # Replaced whole on every change: the metrics port's thread reads it.
    _reports: dict[int, tuple[Report, float]] = field(default_factory=dict)

    async def run(self) -> int:
        """Serves until SIGTERM or SIGINT (exit 0) or until the fleet cannot be kept up."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal)
        for index in range(self.count):
            self._spawn(index)
        loop.call_later(STALL_WATCH_SECONDS, self._replace_stalled_workers)
        await self._started.wait()
        if not self._stopping:
            log.info(
                "serving",
                workers=self.count,
                port=self.settings.port,
                metrics_port=self.metrics.port if self.metrics else None,
            )
        await self._stopped.wait()
        log.info("stopped", exit_code=self._exit_code)
        return self._exit_code

    def probe_state(self) -> ProbeState:
        """The fleet's answer to the probes; called from the metrics port's thread."""
        return fleet_state(self._reports, self._stopping, time.monotonic())

    def _refresh_reports(self) -> None:
        self._reports = {
            index: worker.report
            for index, worker in self._workers.items()
            if worker.report is not None
        }

    def _replace_stalled_workers(self) -> None:
        """A worker whose event loop is stuck answers nothing and never recovers: kill it, and
        it is restarted like any worker that died after it served."""
        stalled = {} if self._stopping else stalled_workers(self._reports, time.monotonic())
        for index, silent in stalled.items():
            log.error("worker stalled; killing it", worker=index, silent_seconds=round(silent))
            self._workers[index].process.kill()
        if not self._stopping:
            asyncio.get_running_loop().call_later(
                STALL_WATCH_SECONDS, self._replace_stalled_workers
            )

    @property
    def pids(self) -> list[int]:
        return [worker.process.pid or 0 for worker in self._workers.values()]

    def _spawn(self, index: int) -> None:
        context = multiprocessing.get_context("spawn")  # grpc's C core does not survive fork
        ours, theirs = context.Pipe()
        process = context.Process(
            target=run_worker,
            args=(self.settings, self.database_dsn, index, theirs),
            name=f"integration-api-worker-{index}",
        )
        process.start()
        theirs.close()  # so that the link reads EOF once the worker is gone
        worker = _Worker(index, process, ours)
        self._workers[index] = worker
        loop = asyncio.get_running_loop()
        loop.add_reader(ours.fileno(), self._on_message, worker)
        loop.add_reader(process.sentinel, self._on_exit, worker)
        log.info("worker started", worker=index, pid=process.pid)

    def _on_message(self, worker: _Worker) -> None:
        try:
            message = worker.link.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(worker.link.fileno())
            return
        if isinstance(message, Report):
            worker.report = (message, time.monotonic())
            self._refresh_reports()
        elif message == READY:
            worker.ready = True
            self._failed_starts[worker.index] = 0
            if (
                all(each.ready for each in self._workers.values())
                and len(self._workers) == self.count
            ):
                self._started.set()

    def _on_exit(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        loop.remove_reader(worker.process.sentinel)
        if not worker.link.closed:
            loop.remove_reader(worker.link.fileno())
            worker.link.close()
        worker.process.join()
        code = worker.process.exitcode
        del self._workers[worker.index]
        self._refresh_reports()
        if self.metrics is not None and worker.process.pid is not None:
            self.metrics.worker_exited(worker.process.pid)
        if self._stopping:
            log.info("worker stopped", worker=worker.index, exit_code=code)
            if not self._workers:
                self._stopped.set()
            return
        if worker.ready:
            log.warning("worker died; restarting it", worker=worker.index, exit_code=code)
            self._restart_later(worker.index, RESTART_DELAY_SECONDS)
            return
        self._died_at_start(worker.index, code)

    def _died_at_start(self, index: int, code: int | None) -> None:
        failures = self._failed_starts.get(index, 0) + 1
        self._failed_starts[index] = failures
        if not self._started.is_set() or failures >= MAX_FAILED_STARTS:
            log.error(
                "a worker cannot start; stopping every worker",
                worker=index,
                exit_code=code,
                attempts=failures,
            )
            self._exit_code = code if code and code > 0 else 1
            self._stop_all()
            return
        delay = min(RESTART_DELAY_SECONDS * 2**failures, MAX_RESTART_DELAY_SECONDS)
        log.warning("worker died while starting; retrying", worker=index, delay_seconds=delay)
        self._restart_later(index, delay)

    def _restart_later(self, index: int, delay: float) -> None:
        handle = asyncio.get_running_loop().call_later(delay, self._restart, index)
        self._restarts.append(handle)

    def _restart(self, index: int) -> None:
        if not self._stopping:
            self._spawn(index)

    def _on_signal(self) -> None:
        if not self._stopping:
            log.info("shutdown requested", workers=len(self._workers))
            self._stop_all()

    def _stop_all(self) -> None:
        """SIGTERM to every worker: each turns NOT_SERVING and drains within its grace."""
        self._stopping = True
        self._started.set()
        for handle in self._restarts:
            handle.cancel()
        self._restarts.clear()
        for worker in self._workers.values():
            worker.process.terminate()
        if not self._workers:
            self._stopped.set()
            return
        deadline = self.settings.shutdown_grace_seconds + STOP_MARGIN_SECONDS
        asyncio.get_running_loop().call_later(deadline, self._kill_stragglers)

    def _kill_stragglers(self) -> None:
        for worker in self._workers.values():
            log.error(
                "worker still running after the grace period; killing it", worker=worker.index
            )
            worker.process.kill()
