"""Keeps usage_records' monthly partitions: at start and then daily, on every replica (the
store's advisory lock lets one at a time do the work; the others find it done)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from integration_api.background import BackgroundTask
from integration_api.errors import Unavailable
from integration_api.store.database import ConnectionPool
from integration_api.store.usage_partitions import maintain_partitions

log = structlog.get_logger("integration_api.usage.partitions")

DAY_SECONDS = 86_400.0
# Until the database has been reached once (the readiness check connects it just after start),
# or after a failed round.
RETRY_SECONDS = 5.0


class PartitionKeeper:
    def __init__(
        self,
        pool: Callable[[], ConnectionPool],
        retention_months: int,
        *,
        months_ahead: int = 2,
        interval_seconds: float = DAY_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._pool = pool
        self._retention = retention_months
        self._ahead = months_ahead
        self._interval = interval_seconds
        self._retry = retry_seconds
        self._task = BackgroundTask(self._run, "usage-partitions")

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def run_once(self) -> bool:
        """One round; False when it could not reach the database."""
        try:
            work = await maintain_partitions(
                self._pool(), months_ahead=self._ahead, retention_months=self._retention
            )
        except Unavailable:
            return False  # not reached yet: readiness reports that, not this
        except Exception as error:  # noqa: BLE001 - tried again later
            log.warning("usage partitions not maintained", error_type=type(error).__name__)
            return False
        if work.created or work.dropped:
            log.info("usage partitions maintained", created=work.created, dropped=work.dropped)
        return True

    async def _run(self) -> None:
        while True:
            done = await self.run_once()
            await asyncio.sleep(self._interval if done else self._retry)
