"""Gated rotation: one person requests it, a different one confirms with the new secret.

Until a confirmation succeeds nothing about the credential changes. Confirming verifies the new
secret with the provider and swaps it through the credential operations (the same gate and
audit as RotateCredential); the rotation is single-use and expires after its lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from integration_api.credentials.model import SecretMaterial
from integration_api.credentials.operations import CredentialOperations
from integration_api.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from integration_api.ops.access import acting_on, credential_for, required_reason_violations
from integration_api.principal import Principal
from integration_api.server.context import current_request_id
from integration_api.server.database import Database
from integration_api.store.audit import AuditLog
from integration_api.store.models import AuditEvent, CredentialRow
from integration_api.store.rotations import RotationRepository, RotationRow


@dataclass(frozen=True)
class ConfirmedRotation:
    rotation: RotationRow
    credential: CredentialRow


def _event(
    principal: Principal,
    rotation: RotationRow | None,
    action: str,
    target: str,
    outcome: str = "success",
    **details: str,
) -> AuditEvent:
    return AuditEvent(
        actor=principal.actor,
        tenant=rotation.tenant if rotation else principal.tenant,
        action=action,
        target_type="rotation",
        target_id=target,
        outcome=outcome,
        request_id=current_request_id(),
        details=details,
    )


class GatedRotations:
    def __init__(
        self, database: Database, credential_ops: CredentialOperations, lifetime_seconds: int
    ) -> None:
        self._database = database
        self._credential_ops = credential_ops
        self._lifetime = lifetime_seconds

    def _repository(self) -> RotationRepository:
        return RotationRepository(self._database.pool)

    async def request(self, principal: Principal, credential_id: str, reason: str) -> RotationRow:
        violations = required_reason_violations(reason)
        if violations:
            raise InvalidArgument(violations[0].description, violations)
        row = await credential_for(self._database.pool, principal, credential_id)
        event = AuditEvent(
            actor=principal.actor,
            tenant=row.tenant,
            action="rotation.request",
            target_type="rotation",
            target_id="",
            request_id=current_request_id(),
            details={"credential_id": row.id, "provider": row.provider, "reason": reason},
        )
        return await self._repository().open(
            row.tenant,
            row.id,
            requested_by=principal.actor,
            reason=reason,
            lifetime_seconds=self._lifetime,
            audit=event,
        )

    async def get(self, principal: Principal, rotation_id: str) -> RotationRow:
        return await self._repository().get(
            rotation_id, None if principal.operator else principal.tenant
        )

    async def confirm(
        self, principal: Principal, rotation_id: str, secret: SecretMaterial | None
    ) -> ConfirmedRotation:
        if secret is None:
            raise InvalidArgument.for_field("secret", "is required")
        rotation = await self.get(principal, rotation_id)
        await self._refuse_unless_confirmable(principal, rotation)
        claimed = await self._repository().claim(rotation)
        try:
            row = await credential_for(self._database.pool, principal, claimed.credential_id)
            credential = await self._credential_ops.rotate(
                acting_on(principal, row),
                row.id,
                secret,
                skip_verification=False,
                expected_version=None,
            )
        except BaseException:
            # The new secret was refused (or the call broke): nothing changed, confirm again.
            await self._repository().release(claimed)
            raise
        event = _event(
            principal, claimed, "rotation.confirm", claimed.id, credential_id=claimed.credential_id
        )
        done = await self._repository().complete(claimed, principal.actor, event)
        return ConfirmedRotation(done, credential)

    async def _refuse_unless_confirmable(self, principal: Principal, rotation: RotationRow) -> None:
        why = ""
        if rotation.requested_by == principal.actor:
            why = "self_confirmation"
        elif rotation.state != "pending":
            why = "already_used"
        elif rotation.expired(datetime.now(UTC)):
            why = "expired"
        if not why:
            return
        refusal = _event(
            principal, rotation, "rotation.confirm", rotation.id, "failure", refused=why
        )
        await AuditLog(self._database.pool).record(refusal)
        if why == "self_confirmation":
            raise PermissionDenied(
                "a rotation must be confirmed by someone other than its requester",
                reason="ROTATION_SELF_CONFIRMATION",
            )
        raise FailedPrecondition(
            f"the rotation is {why.replace('_', ' ')}; request a new one",
            reason="ROTATION_EXPIRED" if why == "expired" else "ROTATION_ALREADY_USED",
        )
