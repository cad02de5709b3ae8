"""Pending authorizations: stored once, consumed at most once.

`consume` deletes the row and returns it in one statement (`DELETE … RETURNING`), so of two
callbacks carrying the same state exactly one gets it, whichever replica each reaches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_rows import NewOAuthState, state_from_record

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

_INSERT = """
INSERT INTO oauth_states (state_hash, organization_id, project_id, actor, provider,
    connection_name, scopes, redirect_after, verifier_ciphertext, key_id, expires_at, user_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"""

_CONSUME = "DELETE FROM oauth_states WHERE state_hash = $1 RETURNING *"
# The tenant is part of the match: another tenant presenting a state must not burn it; nor
# may another user of the tenant, when the flow was started for a named user.
_CONSUME_FOR_TENANT = """
DELETE FROM oauth_states WHERE state_hash = $1 AND organization_id = $2 AND project_id = $3
    AND user_id IN ('', $4)
RETURNING *"""

# Expired states are useless; removing them as new ones arrive keeps the table small.
_PURGE_EXPIRED = "DELETE FROM oauth_states WHERE expires_at < now() - interval '1 hour'"


class OAuthStateRepository:
    def __init__(self, pool: ConnectionPool, audit_log: AuditLog | None = None) -> None:
        self._pool = pool
        self._audit = audit_log or AuditLog(pool)

    async def insert(self, state: NewOAuthState, audit: AuditEvent) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_PURGE_EXPIRED)
            await connection.execute(
                _INSERT,
                state.state_hash,
                state.tenant.organization_id,
                state.tenant.project_id,
                state.actor,
                state.provider,
                state.connection_name,
                list(state.scopes),
                state.redirect_after,
                state.verifier_ciphertext,
                state.key_id,
                state.expires_at,
                state.user_id,
            )
            await self._audit.append(connection, audit)

    async def consume(
        self, state_hash: bytes, tenant: Tenant | None = None, user_id: str = ""
    ) -> NewOAuthState | None:
        """The pending authorization with this state hash (and of this tenant and user, when a
        tenant is given), removed; None if there is none — then nothing was removed."""
        async with self._pool.acquire() as connection:
            if tenant is None:
                record = await connection.fetchrow(_CONSUME, state_hash)
            else:
                record = await connection.fetchrow(
                    _CONSUME_FOR_TENANT,
                    state_hash,
                    tenant.organization_id,
                    tenant.project_id,
                    user_id,
                )
        return state_from_record(record) if record is not None else None
