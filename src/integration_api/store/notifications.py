"""Credential-change notifications through PostgreSQL LISTEN/NOTIFY.

Every replica listens; a write on any replica tells all of them to drop their cached copy, so a
disabled credential is refused everywhere at once, with or without Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from integration_api.store.database import describe_dsn, dsn_password
from integration_api.store.failure_reason import connection_failure_reason

if TYPE_CHECKING:
    from integration_api.store.database import DatabaseConnection

log = structlog.get_logger("integration_api.notifications")

CHANNEL = "integration_api_credential_changed"


async def notify_credential_changed(connection: DatabaseConnection, credential_id: str) -> None:
    """Queue the notification in the caller's transaction: PostgreSQL delivers it on commit, so
    it is sent exactly when the change becomes visible, and never for a rolled-back change."""
    await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, credential_id)


class CredentialChangeListener:
    """Holds one dedicated connection that LISTENs; reconnects after losing it.

    `on_change(id)` runs for each notification; `on_gap()` runs whenever notifications may have
    been missed (at (re)connection), so the caller can drop everything it cached.
    """

    def __init__(
        self,
        dsn: str,
        on_change: Callable[[str], Coroutine[Any, Any, None]],
        on_gap: Callable[[], Coroutine[Any, Any, None]],
        retry_seconds: float = 1.0,
    ) -> None:
        self._dsn = dsn
        self._on_change = on_change
        self._on_gap = on_gap
        self._retry_seconds = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Future[None]] = set()
        self._outage = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="credential-change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_once()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                # One warning per outage, not one per reconnection attempt.
                if not self._outage:
                    log.warning(
                        "change listener disconnected",
                        reason=connection_failure_reason(
                            error,
                            address=describe_dsn(self._dsn),
                            secrets=[dsn_password(self._dsn)],
                        ),
                    )
                self._outage = True
            await asyncio.sleep(self._retry_seconds)

    async def _listen_once(self) -> None:
        connection = await asyncpg.connect(self._dsn, timeout=5)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._dispatch)
            if self._outage:
                log.info("change listener reconnected")
                self._outage = False
            await self._on_gap()
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), 5)
                except TimeoutError:
                    await connection.execute("SELECT 1")  # notices a dead socket promptly
        finally:
            if not connection.is_closed():
                await connection.close(timeout=1)

    def _dispatch(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        task = asyncio.ensure_future(self._on_change(str(payload)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
