"""The service's database connection over its life: embedded or external, connect, migrate, probe.

The service starts even when PostgreSQL is not reachable yet; it stays NOT_SERVING and keeps
trying, so an orchestrator that starts everything at once converges without restarts.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import structlog

from integration_api.config import Settings
from integration_api.errors import Unavailable
from integration_api.store.database import create_pool, describe_dsn, dsn_from_parts
from integration_api.store.failure_reason import connection_failure_reason
from integration_api.store.migrate import apply_migrations
from integration_api.tls import postgres_dsn_parameters

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool
    from integration_api.store.embedded import EmbeddedPostgres

log = structlog.get_logger("integration_api.database")


class Database:
    def __init__(self, settings: Settings, dsn: str | None = None) -> None:
        self._settings = settings
        self._dsn = dsn
        self._embedded: EmbeddedPostgres | None = None
        self._pool: ConnectionPool | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Starts the embedded PostgreSQL when no external one is configured."""
        if self._dsn is not None:
            return
        postgres = self._settings.postgres
        if postgres.embedded:
            from integration_api.store.embedded import EmbeddedPostgres

            self._embedded = EmbeddedPostgres(self._settings.data_dir / "postgres")
            self._dsn = await self._embedded.start()
            log.info("embedded postgres started", database=describe_dsn(self._dsn))
        else:
            self._dsn = dsn_from_parts(
                postgres.host,
                postgres.port,
                postgres.database,
                postgres.user,
                postgres.password,
                postgres.ssl_mode,
                postgres_dsn_parameters(postgres),
            )

    @property
    def dsn(self) -> str:
        assert self._dsn is not None, "start() resolves the DSN"
        return self._dsn

    @property
    def pool(self) -> ConnectionPool:
        """The connection pool; Unavailable until the database has been reached once."""
        if self._pool is None:
            raise Unavailable("the database is not reachable yet")
        return self._pool

    async def probe(self) -> str | None:
        """Readiness check: connects and migrates on first success, then pings."""
        try:
            pool = await self._connect()
            await pool.fetchval("SELECT 1", timeout=2.0)
        except Exception as error:  # noqa: BLE001 - every asyncpg failure means not ready
            return connection_failure_reason(
                error, address=describe_dsn(self.dsn), secrets=[self._settings.postgres.password]
            )
        return None

    async def _connect(self) -> ConnectionPool:
        async with self._lock:
            if self._pool is not None:
                return self._pool
            assert self._dsn is not None, "start() resolves the DSN"
            postgres = self._settings.postgres
            pool = await create_pool(
                self._dsn,
                min_size=min(postgres.min_connections, postgres.max_connections),
                max_size=postgres.max_connections,
            )
            try:
                applied = await apply_migrations(pool)
            except BaseException:
                await pool.close()
                raise
            if applied:
                log.info("migrations applied", migrations=applied)
            self._pool = pool
            return pool

    async def close_pool(self) -> None:
        """Closes the connections but keeps an embedded PostgreSQL running for others."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def close(self) -> None:
        await self.close_pool()
        if self._embedded is not None:
            await self._embedded.stop()
            self._embedded = None
