"""Readiness: the standard gRPC health service driven by dependency checks.

Every service (and `""`, the server as a whole) is NOT_SERVING until every check passes, goes
back to NOT_SERVING when one fails, and stays NOT_SERVING for good once shutdown begins, so
load balancers stop sending traffic before in-flight streams drain.

`LIVENESS_SERVICE` answers SERVING from the start for as long as the process runs (until the
drain): a liveness probe asks for it, so a dependency outage takes a pod out of rotation
without getting it restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from integration_api.store.failure_reason import connection_failure_reason

log = structlog.get_logger("integration_api.readiness")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
LIVENESS_SERVICE = "liveness"


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

    @property
    def serving(self) -> bool:
        return bool(self._serving)

    @property
    def failures(self) -> dict[str, str]:
        return dict(self._failures)

    async def start(self) -> None:
        await self._health.set(LIVENESS_SERVICE, SERVING)
        await self._publish(False)
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
        return not failures

    async def enter_shutdown(self) -> None:
        """NOT_SERVING for every service from now on; checks stop."""
        self._shutting_down = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._health.enter_graceful_shutdown()
        self._serving = False

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
