"""Who may see and act on what: a tenant caller its own tenant, an operator every tenant.

An operator's action on a credential is filed under the credential's tenant with the operator
as actor, so each tenant's audit trail shows what was done to it and by whom.
"""

from __future__ import annotations

from dataclasses import replace

from integration_api.credentials.validation import reason_violations
from integration_api.errors import FieldViolation, InvalidArgument, PermissionDenied
from integration_api.principal import Principal, Tenant
from integration_api.store.credential_rows import credential_not_found
from integration_api.store.credentials import CredentialRepository
from integration_api.store.database import ConnectionPool
from integration_api.store.inventory import InventoryRepository
from integration_api.store.models import CredentialRow


def require_operator(principal: Principal, what: str) -> None:
    if not principal.operator:
        raise PermissionDenied(
            f'{what} needs an operator token (claim roles: ["operator"])',
            reason="OPERATOR_ROLE_REQUIRED",
        )


def visible_tenant(principal: Principal, organization_id: str, project_id: str) -> Tenant | None:
    """The tenant a request may see: an operator the one it names (or all, None); a tenant
    caller its own, and only its own."""
    if bool(organization_id) != bool(project_id):
        raise InvalidArgument.for_field(
            "organization_id", "name both organization_id and project_id, or neither"
        )
    named = Tenant(organization_id, project_id) if organization_id else None
    if principal.operator:
        return named
    if named is not None and named != principal.tenant:
        raise PermissionDenied(
            "a tenant caller sees only its own tenant", reason="OPERATOR_ROLE_REQUIRED"
        )
    return principal.tenant


def acting_on(principal: Principal, row: CredentialRow) -> Principal:
    """The caller, acting within the credential's tenant (same actor)."""
    return replace(principal, tenant=row.tenant)


async def credential_for(
    pool: ConnectionPool, principal: Principal, credential_id: str
) -> CredentialRow:
    """The credential, if the caller may see it; NotFound exactly like a missing one otherwise."""
    if not principal.operator:
        return await CredentialRepository(pool).get(principal.tenant, credential_id)
    row = await InventoryRepository(pool).find(credential_id)
    if row is None:
        raise credential_not_found(None)
    return row


def required_reason_violations(reason: str) -> list[FieldViolation]:
    """Actions on a credential of someone else's say why; the reason goes to the audit trail."""
    if not reason.strip():
        return [FieldViolation("reason", "is required")]
    return reason_violations(reason)
