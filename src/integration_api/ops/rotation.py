"""Gated rotation: one person requests it, a different one confirms with the new secret.

Until a confirmation succeeds nothing about the credential changes. Confirming verifies the new
secret with the provider, then swaps it through the credential operations (the same gate and
audit as RotateCredential) in one transaction with the rotation's move to `confirmed` and both
audit events (`credential.rotate`, `rotation.confirm`). The rotation is single-use and expires
after its lifetime; a refused secret, a crash or a lost race leaves it pending and the key as it
was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from integration_api.call_context import current_request_id
from integration_api.credentials.model import SecretMaterial
from integration_api.credentials.operations import CredentialOperations
from integration_api.database import Database
from integration_api.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from integration_api.ops.access import acting_on, credential_for, required_reason_violations
from integration_api.principal import Principal
from integration_api.store.audit import AuditLog
from integration_api.store.database import DatabaseConnection
from integration_api.store.models import AuditEvent, CredentialRow
from integration_api.store.rotations import RotationRepository, RotationRow, mark_confirmed


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


class _MarkConfirmed:
    """The rotation's own writes, run inside the transaction that swaps the secret."""

    def __init__(self, principal: Principal, rotation: RotationRow) -> None:
        self._principal = principal
        self._rotation = rotation
        self.confirmed: RotationRow | None = None

    async def __call__(self, connection: DatabaseConnection) -> list[AuditEvent]:
        rotation = self._rotation
        self.confirmed = await mark_confirmed(connection, rotation, self._principal.actor)
        event = _event(
            self._principal,
            rotation,
            "rotation.confirm",
            rotation.id,
            credential_id=rotation.credential_id,
        )
        return [event]


def _refuse_unnamed(principal: Principal) -> None:
    """Two people are told apart by their identity; a token naming nobody has none."""
    if not principal.identity:
        raise PermissionDenied(
            "a rotation is requested and confirmed by a named person: the token needs a sub "
            "(or userId) claim",
            reason="ACTOR_UNNAMED",
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

    async def request(
        self, principal: Principal, credential_id: str, reason: str, via: str = ""
    ) -> RotationRow:
        """Opens a rotation; `via` names who relayed the request (the Opstage agent)."""
        violations = required_reason_violations(reason)
        if violations:
            raise InvalidArgument(violations[0].description, violations)
        _refuse_unnamed(principal)
        row = await credential_for(self._database.pool, principal, credential_id)
        details = {"credential_id": row.id, "provider": row.provider, "reason": reason}
        event = AuditEvent(
            actor=principal.actor,
            tenant=row.tenant,
            action="rotation.request",
            target_type="rotation",
            target_id="",
            request_id=current_request_id(),
            details=details | ({"via": via} if via else {}),
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
        _refuse_unnamed(principal)
        rotation = await self.get(principal, rotation_id)
        await self._refuse_unless_confirmable(principal, rotation)
        row = await credential_for(self._database.pool, principal, rotation.credential_id)
        marking = _MarkConfirmed(principal, rotation)
        credential = await self._credential_ops.rotate(
            acting_on(principal, row),
            row.id,
            secret,
            skip_verification=False,
            expected_version=None,
            linked=marking,
        )
        if marking.confirmed is None:
            raise RuntimeError("the secret was swapped without confirming its rotation")
        return ConfirmedRotation(marking.confirmed, credential)

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
