"""Disabling credentials in bulk, for an incident (a key suspected leaked).

Each credential goes through the credential operations' own disable, so it is audited in the
same transaction and refused on every replica at once, exactly like DisableCredential.
"""

from __future__ import annotations

from integration_api.credentials.operations import CredentialOperations
from integration_api.database import Database
from integration_api.errors import InvalidArgument
from integration_api.ops.access import (
    acting_on,
    credential_for,
    required_reason_violations,
    visible_tenant,
)
from integration_api.principal import Principal
from integration_api.providers.registry import get_provider
from integration_api.store.inventory import InventoryRepository, InventoryScope
from integration_api.store.models import CredentialRow


class BulkDisable:
    def __init__(self, database: Database, credential_ops: CredentialOperations) -> None:
        self._database = database
        self._credential_ops = credential_ops

    async def disable(
        self,
        principal: Principal,
        *,
        organization_id: str,
        project_id: str,
        provider: str,
        reason: str,
    ) -> list[CredentialRow]:
        violations = required_reason_violations(reason)
        if violations:
            raise InvalidArgument(violations[0].description, violations)
        if not (organization_id or provider):
            raise InvalidArgument.for_field(
                "organization_id", "name a tenant or a provider (or both)"
            )
        if provider:
            get_provider(provider)
        tenant = visible_tenant(principal, organization_id, project_id)
        scope = InventoryScope(tenant, provider or None)
        rows = await InventoryRepository(self._database.pool).matching(
            scope, include_disabled=False
        )
        return [
            await self._credential_ops.set_enabled(
                acting_on(principal, row), row.id, enabled=False, reason=reason
            )
            for row in rows
        ]

    async def disable_one(
        self, principal: Principal, credential_id: str, reason: str
    ) -> CredentialRow:
        """One credential the caller may see (an operator: any), with a required reason."""
        violations = required_reason_violations(reason)
        if violations:
            raise InvalidArgument(violations[0].description, violations)
        row = await credential_for(self._database.pool, principal, credential_id)
        return await self._credential_ops.set_enabled(
            acting_on(principal, row), row.id, enabled=False, reason=reason
        )
