"""Gated rotations: requested by one person, confirmed (with the new secret) by another.

A rotation is single-use. Confirming marks it `confirmed` in the transaction that swaps the
secret, in one statement that also checks it is still pending and unexpired: of two
confirmations of the same rotation only one commits, and a crash leaves either the old secret
with the rotation pending or the new one with the rotation confirmed, never a mix. (Rows in the
state `confirming` were written by earlier versions, which claimed a rotation before the swap.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from integration_api.errors import FailedPrecondition, NotFound
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.models import AuditEvent

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

_INSERT = """
INSERT INTO rotations (id, organization_id, project_id, credential_id, requested_by, reason,
    state, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, 'pending', now() + make_interval(secs => $7))
RETURNING *"""

# $2, $3 NULL: any tenant (an operator's lookup).
_GET = """
SELECT * FROM rotations
WHERE id = $1 AND ($2::text IS NULL OR (organization_id = $2 AND project_id = $3))"""

_CONFIRM = """
UPDATE rotations SET state = 'confirmed', confirmed_by = $2, confirmed_at = now()
WHERE id = $1 AND state = 'pending' AND expires_at > now()
RETURNING *"""


@dataclass(frozen=True)
class RotationRow:
    id: str
    tenant: Tenant
    credential_id: str
    requested_by: str
    reason: str
    state: str
    requested_at: datetime
    expires_at: datetime
    confirmed_by: str
    confirmed_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.state == "pending" and self.expires_at <= now


def _row(record: asyncpg.Record) -> RotationRow:
    return RotationRow(
        id=str(record["id"]),
        tenant=Tenant(record["organization_id"], record["project_id"]),
        credential_id=str(record["credential_id"]),
        requested_by=record["requested_by"],
        reason=record["reason"],
        state=record["state"],
        requested_at=record["requested_at"],
        expires_at=record["expires_at"],
        confirmed_by=record["confirmed_by"],
        confirmed_at=record["confirmed_at"],
    )


def rotation_not_found() -> NotFound:
    return NotFound("rotation not found", reason="ROTATION_NOT_FOUND")


class RotationRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._audit = AuditLog(pool)

    async def open(
        self,
        tenant: Tenant,
        credential_id: str,
        *,
        requested_by: str,
        reason: str,
        lifetime_seconds: int,
        audit: AuditEvent,
    ) -> RotationRow:
        rotation_id = uuid.uuid4()
        async with self._pool.acquire() as connection, connection.transaction():
            record = await connection.fetchrow(
                _INSERT,
                rotation_id,
                tenant.organization_id,
                tenant.project_id,
                uuid.UUID(credential_id),
                requested_by,
                reason,
                float(lifetime_seconds),
            )
            await self._audit.append(connection, _with_target(audit, str(rotation_id)))
        assert record is not None
        return _row(record)

    async def get(self, rotation_id: str, tenant: Tenant | None) -> RotationRow:
        """The rotation, if `tenant` (None: any) holds it; NotFound otherwise."""
        try:
            rotation_uuid = uuid.UUID(rotation_id)
        except ValueError:
            raise rotation_not_found() from None
        organization, project = (
            (tenant.organization_id, tenant.project_id) if tenant else (None, None)
        )
        record = await self._pool.fetchrow(_GET, rotation_uuid, organization, project)
        if record is None:
            raise rotation_not_found()
        return _row(record)


async def mark_confirmed(
    connection: DatabaseConnection, rotation: RotationRow, confirmed_by: str
) -> RotationRow:
    """Mark a pending, unexpired rotation confirmed inside the caller's open transaction (the
    one swapping the secret); FailedPrecondition, rolling all of it back, if it is not."""
    record = await connection.fetchrow(_CONFIRM, uuid.UUID(rotation.id), confirmed_by)
    if record is None:
        raise FailedPrecondition(
            "the rotation is expired or already used; request a new one",
            reason="ROTATION_NOT_PENDING",
        )
    return _row(record)


def _with_target(event: AuditEvent, target_id: str) -> AuditEvent:
    return AuditEvent(
        actor=event.actor,
        tenant=event.tenant,
        action=event.action,
        target_type=event.target_type,
        target_id=target_id,
        outcome=event.outcome,
        request_id=event.request_id,
        details=event.details,
    )
