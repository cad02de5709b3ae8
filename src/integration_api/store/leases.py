"""A leader lease: a PostgreSQL session advisory lock held on a connection of its own.

Whichever replica holds the lock does the work that must happen once per deployment (the
background health checker, the Opstage agent). The lock lives exactly as long as that
connection: a replica that dies, or loses the database, loses the lease with it, and another
replica's next attempt takes it over.
"""

from __future__ import annotations

import asyncpg
import structlog

from integration_api.store.database import advisory_key

log = structlog.get_logger("integration_api.lease")


class AdvisoryLease:
    def __init__(self, dsn: str, name: str) -> None:
        self._dsn = dsn
        self._key = advisory_key(name)
        self._connection: asyncpg.Connection[asyncpg.Record] | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; False (never an exception) otherwise."""
        if self.held:
            return True
        try:
            connection = await asyncpg.connect(self._dsn, timeout=5.0)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        try:
            acquired = bool(await connection.fetchval("SELECT pg_try_advisory_lock($1)", self._key))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            acquired = False
        except BaseException:
            # Cancelled (the service is stopping) between connecting and locking.
            connection.terminate()
            raise
        if not acquired:
            connection.terminate()
            return False
        self._connection = connection
        return True

    async def still_held(self) -> bool:
        """Pings the lease's connection; a broken connection means the lock is gone."""
        if self._connection is None:
            return False
        try:
            await self._connection.fetchval("SELECT 1", timeout=5.0)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            await self.release()
            return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            # Closing the session releases its advisory locks.
            connection.terminate()
