"""Schema migrations: numbered SQL files shipped in `integration_api.store.migrations`.

Every replica runs `apply_migrations` at start. A session-level advisory lock makes them take
turns, so exactly one applies each pending file and the others find it done. Each file runs in
its own transaction together with its row in `schema_migrations`; a file that fails leaves no
trace and is retried on the next start. The checksum of each applied file is kept, so a file
edited after it shipped is refused instead of silently diverging between databases.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from integration_api.store.database import advisory_key

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

MIGRATIONS_PACKAGE = "integration_api.store.migrations"
_FILE_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


MIGRATION_LOCK_KEY = advisory_key("integration-api/schema-migrations")


class MigrationError(RuntimeError):
    """The migration files and the database's history disagree; starting would be unsafe."""


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str
    checksum: str


def load_migrations() -> list[Migration]:
    """The shipped migration files in order, by their four-digit number."""
    migrations: list[Migration] = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        if not _FILE_NAME.fullmatch(entry.name):
            raise MigrationError(f"migration file name {entry.name!r} is not NNNN_name.sql")
        sql = entry.read_text(encoding="utf-8")
        checksum = hashlib.sha256(sql.encode()).hexdigest()
        migrations.append(Migration(entry.name.removesuffix(".sql"), sql, checksum))
    migrations.sort(key=lambda migration: migration.version)
    numbers = [migration.version[:4] for migration in migrations]
    if len(set(numbers)) != len(numbers):
        raise MigrationError("two migration files share a number")
    return migrations


async def apply_migrations(
    pool: ConnectionPool, migrations: list[Migration] | None = None
) -> list[str]:
    """Apply every pending migration; returns the versions this call applied (often none)."""
    pending_source = load_migrations() if migrations is None else migrations
    async with pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            return await _apply_pending(connection, pending_source)
        finally:
            # A broken connection has already released its session lock.
            if not connection.is_closed():
                await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)


async def _apply_pending(connection: DatabaseConnection, migrations: list[Migration]) -> list[str]:
    await connection.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     text PRIMARY KEY,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    rows = await connection.fetch("SELECT version, checksum FROM schema_migrations")
    applied = {row["version"]: row["checksum"] for row in rows}
    applied_now: list[str] = []
    for migration in migrations:
        recorded_checksum = applied.get(migration.version)
        if recorded_checksum is not None:
            if recorded_checksum != migration.checksum:
                raise MigrationError(f"migration {migration.version} changed after it was applied")
            continue
        async with connection.transaction():
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                migration.version,
                migration.checksum,
            )
        applied_now.append(migration.version)
    return applied_now
