"""The background health checker: keeps every enabled credential's last check fresh.

Each round (every interval, plus a random jitter so replicas and providers see no lockstep)
checks the credentials not checked within the interval, longest-unchecked first, with the
shared concurrency bound, then publishes per-provider counts of effective status.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import structlog

from integration_api.database import Database
from integration_api.ops.health import HealthChecks
from integration_api.ops.inventory import stale_before
from integration_api.ops.metrics import publish_health_counts
from integration_api.store.inventory import InventoryRepository, effective_status_counts

log = structlog.get_logger("integration_api.checker")

ROUND_LIMIT = 1000


class BackgroundChecker:
    def __init__(
        self,
        database: Database,
        health: HealthChecks,
        interval_seconds: float,
        jitter_seconds: float,
    ) -> None:
        self._database = database
        self._health = health
        self._interval = interval_seconds
        self._jitter = jitter_seconds
        self.rounds = 0

    async def run_forever(self) -> None:
        # The first round waits too: a replica that just took over finds fresh checks.
        while True:
            await asyncio.sleep(self._interval + random.uniform(0, self._jitter))
            try:
                await self.run_round()
            except Exception as error:  # noqa: BLE001 - the next round tries again
                log.warning("health check round failed", error_type=type(error).__name__)

    async def run_round(self) -> int:
        """Checks what is due; returns how many credentials were checked."""
        now = datetime.now(UTC)
        due = await InventoryRepository(self._database.pool).due_for_check(
            now - timedelta(seconds=self._interval), ROUND_LIMIT
        )
        checked = await self._health.check_all(due, requested_by=None)
        counts = await effective_status_counts(self._database.pool, stale_before(self._interval))
        publish_health_counts(counts)
        self.rounds += 1
        if checked:
            log.info("health check round", checked=len(checked))
        return len(checked)
