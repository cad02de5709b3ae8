"""Readiness: the standard gRPC health service driven by dependency checks.

Every service (and `""`, the server as a whole) is NOT_SERVING until every check passes, goes
back to NOT_SERVING when one fails, and stays NOT_SERVING for good once shutdown begins, so
load balancers stop sending traffic before in-flight streams drain.

`LIVENESS_SERVICE` answers SERVING from the start for as long as the process runs (until the
drain): a liveness probe asks for it, so a dependency outage takes a pod out of rotation
without getting it restarted.

`probe_state` is the same answer for the HTTP probes on the metrics port, which read it from
their own thread (every attribute it reads is replaced whole, never changed in place). Since
those probes answer even when the event loop does not, a loop that has completed no check for
`stall_after_seconds` (every check ends within its timeout otherwise) fails them all, liveness
included. `on_report` hears the state after every check and change: a worker of
`serve --workers` sends it to its supervisor, as its heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from integration_api.server.metrics_port import ProbeState
from integration_api.store.failure_reason import connection_failure_reason

log = structlog.get_logger("integration_api.readiness")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
LIVENESS_SERVICE = "liveness"
# Far beyond a check's own duration: a loop that is merely busy is not stalled.
STALL_FLOOR_SECONDS = 30.0


@dataclass(frozen=True)
class Report:
    """A process's probe state, after a check or a change, and when its silence means a stall."""

    state: ProbeState
    stall_after_seconds: float


@dataclass(frozen=True)
class ReadinessCheck:
    """A named dependency probe: returns None when ready, or a reason (secret-free) when not."""

    name: str
    probe: Callable[[], Awaitable[str | None]]


class Readiness:
    def __init__(
        self,
        health: HealthServicer,
        service_names: Sequence[str],
        checks: Sequence[ReadinessCheck],
        interval_seconds: float,
        probe_timeout_seconds: float = 2.0,
        on_report: Callable[[Report], None] | None = None,
    ) -> None:
        self._health = health
        self._service_names = ["", *service_names]
        self._checks = list(checks)
        self._interval = interval_seconds
        self._probe_timeout = probe_timeout_seconds
        self._serving: bool | None = None
        self._failures: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._shutting_down = False
        self._alive = False
        self._on_report = on_report
        self._checked_at = 0.0
        per_check = interval_seconds + probe_timeout_seconds * len(self._checks)
        self.stall_after_seconds = max(STALL_FLOOR_SECONDS, 3 * per_check)

    @property
    def serving(self) -> bool:
        return bool(self._serving)

    @property
    def failures(self) -> dict[str, str]:
        return dict(self._failures)

    def probe_state(self) -> ProbeState:
        if self._shutting_down:
            return ProbeState(alive=False, serving=False, reason="draining")
        if not self._alive:
            return ProbeState(alive=False, serving=False, reason="starting")
        silent = time.monotonic() - self._checked_at
        if silent > self.stall_after_seconds:
            reason = f"event loop stalled: no readiness check for {silent:.0f} s"
            return ProbeState(alive=False, serving=False, reason=reason)
        if self._serving:
            return ProbeState(alive=True, serving=True)
        reasons = [f"{name}: {reason}" for name, reason in self._failures.items()]
        return ProbeState(True, False, "; ".join(reasons) or "dependencies not checked yet")

    async def start(self) -> None:
        await self._health.set(LIVENESS_SERVICE, SERVING)
        self._checked_at = time.monotonic()
        self._alive = True
        await self._publish(False)
        self._report()
        await self.check_once()
        self._task = asyncio.create_task(self._loop(), name="readiness")

    async def check_once(self) -> bool:
        failures: dict[str, str] = {}
        for check in self._checks:
            reason = await self._run(check)
            if reason is not None:
                failures[check.name] = reason
        self._log_changes(failures)
        self._failures = failures
        await self._publish(not failures)
        self._checked_at = time.monotonic()
        self._report()
        return not failures

    async def enter_shutdown(self) -> None:
        """NOT_SERVING for every service from now on; checks stop."""
        self._shutting_down = True  # the HTTP probes answer 503 from here on
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._health.enter_graceful_shutdown()
        self._serving = False
        self._report()

    def _report(self) -> None:
        if self._on_report is not None:
            # A draining process stops checking: its silence is no longer a stall.
            stall_after = math.inf if self._shutting_down else self.stall_after_seconds
            self._on_report(Report(self.probe_state(), stall_after))

    async def _run(self, check: ReadinessCheck) -> str | None:
        try:
            return await asyncio.wait_for(check.probe(), self._probe_timeout)
        except TimeoutError:
            return "timed out"
        except Exception as error:  # noqa: BLE001 - any failing probe means not ready
            return connection_failure_reason(error)

    async def _loop(self) -> None:
        while not self._shutting_down:
            await asyncio.sleep(self._interval)
            await self.check_once()

    async def _publish(self, serving: bool) -> None:
        if self._shutting_down or serving == self._serving:
            return
        self._serving = serving
        status = SERVING if serving else NOT_SERVING
        for name in self._service_names:
            await self._health.set(name, status)
        log.info("readiness", serving=serving, failures=self._failures or None)

    def _log_changes(self, failures: dict[str, str]) -> None:
        for name, reason in failures.items():
            if self._failures.get(name) != reason:
                log.warning("dependency not ready", dependency=name, reason=reason)
        for name in self._failures.keys() - failures.keys():
            log.info("dependency ready", dependency=name)
