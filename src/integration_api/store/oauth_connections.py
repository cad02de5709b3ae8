"""Tenant-scoped OAuth connections, their sealed tokens, and the per-connection refresh lock.

Every statement a caller reaches by id filters on the tenant, so another tenant's connection id
answers exactly like one that does not exist. Every change appends its audit event in the same
transaction. `version` grows with every change, which is how a refresh notices that someone
else (a reconnect, a revocation, another replica) wrote the row while it talked to the provider.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from integration_api.errors import FailedPrecondition, NotFound, Unavailable
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.database import advisory_key
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_refresh_session import RefreshSession
from integration_api.store.oauth_rows import (
    AuthorizedAccount,
    OAuthConnectionRow,
    SealedTokens,
    connection_from_record,
)
from integration_api.store.pagination import (
    PageTokens,
    keyset_after,
    page_size_or_default,
    query_scope,
)

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

# Unlocking on a connection that broke fails, and need not succeed: the lock died with it.
_RELEASE_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
# How long a caller waits for another replica's refresh of the same connection; a refresh is one
# token request, so a longer wait means that replica is stuck: the caller may retry.
REFRESH_LOCK_WAIT_SECONDS = 20.0

SealFor = Callable[[str], SealedTokens]
AuditFor = Callable[[str, bool], AuditEvent]

_FIND_BY_NAME = """
SELECT * FROM oauth_connections
WHERE organization_id = $1 AND project_id = $2 AND provider = $3 AND name = $4
FOR UPDATE"""

_INSERT = """
INSERT INTO oauth_connections (id, organization_id, project_id, provider, name, account_id,
    account_email, scopes, status, token_ciphertext, key_id, token_type, has_refresh_token,
    access_token_expires_at, refresh_token_expires_at, last_refreshed_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10, $11, $12, $13, $14, now(), $15)
RETURNING *"""

# A reconnect of the same account: fresh tokens, active again.
_REAUTHORIZE = """
UPDATE oauth_connections SET account_email = $2, scopes = $3, status = 'active',
    status_reason = '', token_ciphertext = $4, key_id = $5, token_type = $6,
    has_refresh_token = $7, access_token_expires_at = $8, refresh_token_expires_at = $9,
    last_refreshed_at = now(), version = version + 1, updated_at = now()
WHERE id = $1
RETURNING *"""

_GET = """
SELECT * FROM oauth_connections WHERE id = $1 AND organization_id = $2 AND project_id = $3"""

_REVOKE = """
UPDATE oauth_connections SET status = 'revoked', status_reason = $4, token_ciphertext = NULL,
    key_id = NULL, has_refresh_token = false, access_token_expires_at = NULL,
    refresh_token_expires_at = NULL, version = version + 1, updated_at = now()
WHERE id = $1 AND organization_id = $2 AND project_id = $3
RETURNING *"""

_LIST = """
SELECT * FROM oauth_connections
WHERE organization_id = $1 AND project_id = $2
  AND ($3::text IS NULL OR provider = $3)
  AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5::uuid))
ORDER BY created_at, id
LIMIT $6"""

_DUE_FOR_KEEPALIVE = """
SELECT * FROM oauth_connections
WHERE status = 'active' AND has_refresh_token AND last_refreshed_at < $1
ORDER BY last_refreshed_at
LIMIT $2"""


def refresh_lock_key(connection_id: str) -> int:
    return advisory_key(f"integration-api/oauth-refresh/{connection_id}")


def parse_connection_id(connection_id: str) -> uuid.UUID:
    """The UUID in `connection_id`; a malformed id names no connection (and is not echoed)."""
    try:
        return uuid.UUID(connection_id)
    except (ValueError, TypeError, AttributeError):
        raise NotFound("connection not found") from None


class OAuthConnectionRepository:
    def __init__(self, pool: ConnectionPool, audit_log: AuditLog | None = None) -> None:
        self._pool = pool
        self._audit = audit_log or AuditLog(pool)

    async def save_authorized(
        self, account: AuthorizedAccount, seal_for: SealFor, audit_for: AuditFor
    ) -> OAuthConnectionRow:
        """Create the connection, or give an existing one of the same account fresh tokens.

        A different account arriving under an existing connection's name is refused: it must
        not take over a connection that other code already uses as someone else's.
        """
        tenant = account.tenant
        async with self._pool.acquire() as connection, connection.transaction():
            existing = await connection.fetchrow(
                _FIND_BY_NAME,
                tenant.organization_id,
                tenant.project_id,
                account.provider,
                account.name,
            )
            if existing is not None and existing["account_id"] != account.account_id:
                raise FailedPrecondition(
                    "the account that authorized differs from the one this connection belongs to",
                    reason="OAUTH_ACCOUNT_MISMATCH",
                )
            connection_id = str(existing["id"]) if existing is not None else str(uuid.uuid4())
            sealed = seal_for(connection_id)
            if existing is None:
                record = await connection.fetchrow(
                    _INSERT,
                    uuid.UUID(connection_id),
                    tenant.organization_id,
                    tenant.project_id,
                    account.provider,
                    account.name,
                    account.account_id,
                    account.account_email,
                    list(sealed.scopes),
                    *_token_columns(sealed),
                    account.actor,
                )
            else:
                record = await connection.fetchrow(
                    _REAUTHORIZE,
                    existing["id"],
                    account.account_email,
                    list(sealed.scopes),
                    *_token_columns(sealed),
                )
            await self._audit.append(connection, audit_for(connection_id, existing is None))
        if record is None:
            raise RuntimeError("storing an authorized connection returned no row")
        return connection_from_record(record)

    async def get(self, tenant: Tenant, connection_id: str) -> OAuthConnectionRow:
        connection_uuid = parse_connection_id(connection_id)
        async with self._pool.acquire() as connection:
            record = await connection.fetchrow(
                _GET, connection_uuid, tenant.organization_id, tenant.project_id
            )
        if record is None:
            raise NotFound(f"connection {connection_uuid} not found")
        return connection_from_record(record)

    async def revoke(
        self, tenant: Tenant, connection_id: str, reason: str, audit: AuditEvent
    ) -> OAuthConnectionRow:
        """Forget the tokens for good and mark the connection revoked."""
        connection_uuid = parse_connection_id(connection_id)
        async with self._pool.acquire() as connection, connection.transaction():
            record = await connection.fetchrow(
                _REVOKE, connection_uuid, tenant.organization_id, tenant.project_id, reason
            )
            if record is None:
                raise NotFound(f"connection {connection_uuid} not found")
            await self._audit.append(connection, audit)
        return connection_from_record(record)

    async def list(
        self,
        tenant: Tenant,
        *,
        provider: str = "",
        page_size: int = 0,
        page_token: str = "",
        tokens: PageTokens,
    ) -> tuple[builtins.list[OAuthConnectionRow], str]:
        """One page in creation order; the next token is "" after the last page."""
        limit = page_size_or_default(page_size)
        scope = query_scope(
            "oauth-connections", tenant.organization_id, tenant.project_id, provider or None
        )
        after_time, after_id = (
            keyset_after(tokens.decode(page_token, scope)) if page_token else (None, None)
        )
        async with self._pool.acquire() as connection:
            records = await connection.fetch(
                _LIST,
                tenant.organization_id,
                tenant.project_id,
                provider or None,
                after_time,
                after_id,
                limit + 1,
            )
        rows = [connection_from_record(record) for record in records[:limit]]
        if len(records) <= limit:
            return rows, ""
        last = rows[-1]
        return rows, tokens.encode([last.created_at.isoformat(), last.id], scope)

    async def due_for_keepalive(
        self, refreshed_before: datetime, limit: int
    ) -> builtins.list[OAuthConnectionRow]:
        async with self._pool.acquire() as connection:
            records = await connection.fetch(_DUE_FOR_KEEPALIVE, refreshed_before, limit)
        return [connection_from_record(record) for record in records]

    @asynccontextmanager
    async def refresh_session(self, connection_id: str) -> AsyncIterator[RefreshSession]:
        """Hold the connection's refresh lock for the whole block, across every replica.

        The lock is a session-level advisory lock, not a row lock: a reconnect or a revocation
        may still write the row meanwhile, and the session's writes notice it by the version.
        Writes commit on their own, so a refreshed token is durable before the lock is let go.
        The lock goes with its connection: unlocked at the end of the block, and released by
        the server if the connection breaks (the pool's reset unlocks it too).
        """
        connection_uuid = parse_connection_id(connection_id)
        key = refresh_lock_key(connection_id)
        async with self._pool.acquire() as connection:
            try:
                await connection.execute(
                    "SELECT pg_advisory_lock($1)", key, timeout=REFRESH_LOCK_WAIT_SECONDS
                )
            except TimeoutError:
                raise Unavailable(
                    "another refresh of this connection is taking too long; retry",
                    reason="OAUTH_REFRESH_BUSY",
                ) from None
            try:
                yield RefreshSession(connection, self._pool, self._audit, connection_uuid)
            finally:
                with suppress(*_RELEASE_FAILURES):
                    await connection.execute("SELECT pg_advisory_unlock($1)", key)


def _token_columns(sealed: SealedTokens) -> tuple[object, ...]:
    return (
        sealed.ciphertext,
        sealed.key_id,
        sealed.token_type,
        sealed.has_refresh_token,
        sealed.access_token_expires_at,
        sealed.refresh_token_expires_at,
    )
