"""Work that runs on one replica at a time: whoever holds the lease runs the duties.

Every replica keeps trying to take the lease; the holder starts each duty as a task and checks
now and then that the lease's connection is alive. When it is not (the database restarted, the
network split), the duties stop at once, since another replica may already have taken over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from integration_api.background import BackgroundTask
from integration_api.store.leases import AdvisoryLease

log = structlog.get_logger("integration_api.leader")

Duty = Callable[[], Coroutine[Any, Any, None]]
LEASE_NAME = "integration-api/operations-leader"


class LeaderDuties:
    def __init__(self, dsn: str, duties: list[Duty], retry_seconds: float) -> None:
        self._lease = AdvisoryLease(dsn, LEASE_NAME)
        self._duties = duties
        self._retry = retry_seconds
        self._task = BackgroundTask(self._run, "operations-leader")

    @property
    def leading(self) -> bool:
        return self._lease.held

    def start(self) -> None:
        if self._duties:
            self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
        await self._lease.release()

    async def _run(self) -> None:
        while True:
            if await self._lease.try_acquire():
                log.info(
                    "leading: running the fleet's background duties here", duties=len(self._duties)
                )
                await self._lead()
                log.warning("lease lost: stopped the duties of the leading replica")
            await asyncio.sleep(self._retry)

    async def _lead(self) -> None:
        tasks = [asyncio.create_task(duty()) for duty in self._duties]
        try:
            while await self._lease.still_held():  # noqa: ASYNC110 - polls the database
                await asyncio.sleep(self._retry)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
