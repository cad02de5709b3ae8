"""The writes a token refresh makes while it holds its connection's refresh lock.

A refresh with a rotating refresh token has already spent the old token at the provider when
it comes to write: losing that write loses the connection. So a failed write is tried again,
on fresh connections, before the caller is told.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import asyncpg
import structlog

from integration_api.store.audit import AuditLog
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_rows import (
    OAuthConnectionRow,
    SealedTokens,
    connection_from_record,
)

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

log = structlog.get_logger("integration_api.store.oauth")

WRITE_ATTEMPTS = 5
WRITE_RETRY_DELAY_SECONDS = 0.2

# A statement the database refused or a connection that broke: both may pass on a second try.
_WRITE_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

_READ = "SELECT * FROM oauth_connections WHERE id = $1"

_STORE_REFRESHED = """
UPDATE oauth_connections SET token_ciphertext = $3, key_id = $4, token_type = $5,
    has_refresh_token = $6, access_token_expires_at = $7, refresh_token_expires_at = $8,
    scopes = $9, last_refreshed_at = now(), version = version + 1, updated_at = now()
WHERE id = $1 AND version = $2 AND status = 'active'
RETURNING *"""

_SET_STATUS = """
UPDATE oauth_connections SET status = $3, status_reason = $4, version = version + 1,
    updated_at = now()
WHERE id = $1 AND version = $2
RETURNING *"""


class RefreshSession:
    """Reads and writes, each committed on its own, while the caller holds the lock.

    They run on the lock's connection; a write that fails is retried on fresh connections
    from the pool, the version check keeping it from overwriting anyone else's change.
    """

    def __init__(
        self,
        connection: DatabaseConnection,
        pool: ConnectionPool,
        audit: AuditLog,
        connection_id: uuid.UUID,
    ) -> None:
        self._connection = connection
        self._pool = pool
        self._audit = audit
        self._id = connection_id

    async def read(self) -> OAuthConnectionRow | None:
        """The row as committed now."""
        record = await self._connection.fetchrow(_READ, self._id)
        return connection_from_record(record) if record is not None else None

    async def store_refreshed(
        self, expected_version: int, sealed: SealedTokens, audit: AuditEvent
    ) -> OAuthConnectionRow | None:
        """Persist refreshed tokens; None if the row changed since `expected_version`."""
        arguments = (
            self._id,
            expected_version,
            sealed.ciphertext,
            sealed.key_id,
            sealed.token_type,
            sealed.has_refresh_token,
            sealed.access_token_expires_at,
            sealed.refresh_token_expires_at,
            list(sealed.scopes),
        )
        return await self._write(_STORE_REFRESHED, arguments, audit)

    async def set_status(
        self, expected_version: int, status: str, reason: str, audit: AuditEvent
    ) -> OAuthConnectionRow | None:
        return await self._write(_SET_STATUS, (self._id, expected_version, status, reason), audit)

    async def _write(
        self, statement: str, arguments: tuple[object, ...], audit: AuditEvent
    ) -> OAuthConnectionRow | None:
        try:
            async with self._connection.transaction():
                return await _apply(self._connection, self._audit, statement, arguments, audit)
        except _WRITE_FAILURES as error:
            log.warning("oauth_token_write_retry", attempt=1, error_type=type(error).__name__)
        for attempt in range(2, WRITE_ATTEMPTS + 1):
            await asyncio.sleep(WRITE_RETRY_DELAY_SECONDS * attempt)
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    return await _apply(connection, self._audit, statement, arguments, audit)
            except _WRITE_FAILURES as error:
                if attempt == WRITE_ATTEMPTS:
                    raise
                log.warning(
                    "oauth_token_write_retry", attempt=attempt, error_type=type(error).__name__
                )
        raise AssertionError("the loop returns or raises")


async def _apply(
    connection: DatabaseConnection,
    audit_log: AuditLog,
    statement: str,
    arguments: tuple[object, ...],
    audit: AuditEvent,
) -> OAuthConnectionRow | None:
    record = await connection.fetchrow(statement, *arguments)
    if record is None:
        return None
    await audit_log.append(connection, audit)
    return connection_from_record(record)
