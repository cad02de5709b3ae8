"""Keeps idle connections alive: refreshes any connection not refreshed for almost a day.

Some providers let a refresh token die when it goes unused (Google after six months, GitHub
Apps after six months, apps in Google's "Testing" status after 7 days), and a day is what the
best integration platforms promise. Each pass first removes consented flows nobody completed in
time (their tokens deleted and the grant revoked: oauth/completion.py), then refreshes, oldest
first, every active connection whose last refresh is older than `MAX_IDLE` minus two passes, so
none waits longer than a day.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog

from integration_api.background import BackgroundTask
from integration_api.errors import ServiceError
from integration_api.oauth.refresh import TokenRefresher
from integration_api.store.oauth_connections import OAuthConnectionRepository
from integration_api.store.oauth_rows import OAuthConnectionRow

log = structlog.get_logger("integration_api.oauth.keepalive")

MAX_IDLE = timedelta(hours=24)
BATCH_SIZE = 100


class KeepAlive:
    def __init__(
        self,
        connections: OAuthConnectionRepository,
        refresher: TokenRefresher,
        interval_seconds: float,
        expire_unclaimed: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._expire_unclaimed = expire_unclaimed
        self._connections = connections
        self._refresher = refresher
        self._interval = interval_seconds
        self._task = BackgroundTask(self.run_forever, "oauth-keepalive")

    def cutoff(self) -> datetime:
        return datetime.now(UTC) - MAX_IDLE + 2 * timedelta(seconds=self._interval)

    async def run_once(self) -> int:
        """One pass; returns how many connections it refreshed."""
        if self._expire_unclaimed is not None:
            expired = await self._expire_unclaimed()
            if expired:
                log.info("oauth_unclaimed_expired", expired=expired)
        cutoff = self.cutoff()

        def still_idle(row: OAuthConnectionRow) -> bool:
            # Another replica may have refreshed it since it was listed.
            return row.last_refreshed_at is None or row.last_refreshed_at < cutoff

        refreshed = 0
        for row in await self._connections.due_for_keepalive(cutoff, BATCH_SIZE):
            try:
                await self._refresher.refresh(row.id, still_idle, trigger="keepalive")
                refreshed += 1
            except ServiceError as error:
                log.warning("oauth_keepalive_failed", connection_id=row.id, reason=error.reason)
        return refreshed

    @property
    def enabled(self) -> bool:
        return self._interval > 0

    def start(self) -> None:
        if self.enabled:
            self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def run_forever(self) -> None:
        while True:
            try:
                refreshed = await self.run_once()
                if refreshed:
                    log.info("oauth_keepalive_pass", refreshed=refreshed)
            except Exception as error:  # noqa: BLE001 - the next pass tries again
                log.warning("oauth_keepalive_pass_failed", error_type=type(error).__name__)
            await asyncio.sleep(self._interval)
