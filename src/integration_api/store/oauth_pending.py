"""Consented flows waiting for their completion step: parked once, claimed at most once.

A callback parks the exchanged tokens here under the hash of a one-time completion code; only
the tenant (and user, when one was named at the start) that started the flow can claim them,
in one `DELETE … RETURNING` whose match includes tenant, user and expiry, so a wrong caller
finds nothing and removes nothing. Rows nobody claimed in time are taken out by `expire`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_rows import PendingConnection, pending_from_record

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

_INSERT = """
INSERT INTO oauth_pending_connections (code_hash, organization_id, project_id, user_id, actor,
    provider, connection_name, account_id, account_email, scopes, token_ciphertext, key_id,
    token_type, has_refresh_token, access_token_expires_at, refresh_token_expires_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"""

_CLAIM = """
DELETE FROM oauth_pending_connections
WHERE code_hash = $1 AND organization_id = $2 AND project_id = $3 AND user_id IN ('', $4)
    AND expires_at > now()
RETURNING *"""

# Unclaimed rows, oldest first; `in_use` says whether a connection still holds a grant of the
# same provider account, which revoking the unclaimed tokens would also cut (Google revokes the
# whole grant, GitHub deletes it).
_EXPIRE = """
WITH expired AS (
    DELETE FROM oauth_pending_connections
    WHERE code_hash IN (
        SELECT code_hash FROM oauth_pending_connections WHERE expires_at <= now()
        ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
    RETURNING *)
SELECT expired.*, EXISTS (
    SELECT 1 FROM oauth_connections c
    WHERE c.provider = expired.provider AND c.account_id = expired.account_id
        AND c.token_ciphertext IS NOT NULL) AS in_use
FROM expired"""

_EXISTING_ACCOUNT = """
SELECT account_id FROM oauth_connections
WHERE organization_id = $1 AND project_id = $2 AND provider = $3 AND name = $4"""


class PendingConnectionRepository:
    def __init__(self, pool: ConnectionPool, audit_log: AuditLog | None = None) -> None:
        self._pool = pool
        self._audit = audit_log or AuditLog(pool)

    async def park(self, pending: PendingConnection, audit: AuditEvent) -> None:
        account, tokens = pending.account, pending.tokens
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                _INSERT,
                pending.code_hash,
                account.tenant.organization_id,
                account.tenant.project_id,
                pending.user_id,
                account.actor,
                account.provider,
                account.name,
                account.account_id,
                account.account_email,
                list(tokens.scopes),
                tokens.ciphertext,
                tokens.key_id,
                tokens.token_type,
                tokens.has_refresh_token,
                tokens.access_token_expires_at,
                tokens.refresh_token_expires_at,
                pending.expires_at,
            )
            await self._audit.append(connection, audit)

    async def claim(
        self, code_hash: bytes, tenant: Tenant, user_id: str
    ) -> PendingConnection | None:
        """The caller's unexpired pending connection with this code, removed; else None, and
        nothing was removed."""
        async with self._pool.acquire() as connection:
            record = await connection.fetchrow(
                _CLAIM, code_hash, tenant.organization_id, tenant.project_id, user_id
            )
        return pending_from_record(record) if record is not None else None

    async def expire(self, limit: int) -> list[tuple[PendingConnection, bool]]:
        """Remove up to `limit` unclaimed rows past their expiry; each with whether a
        connection still holds a grant of the same provider account."""
        async with self._pool.acquire() as connection:
            records = await connection.fetch(_EXPIRE, limit)
        return [(pending_from_record(record), bool(record["in_use"])) for record in records]

    async def existing_account(self, tenant: Tenant, provider: str, name: str) -> str | None:
        """The account the tenant's connection of that name belongs to, if there is one."""
        async with self._pool.acquire() as connection:
            value = await connection.fetchval(
                _EXISTING_ACCOUNT, tenant.organization_id, tenant.project_id, provider, name
            )
        return str(value) if value is not None else None
