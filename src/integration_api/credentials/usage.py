"""Resolving a stored credential for one provider call: cache → database → vault, in memory.

The cache holds the row exactly as stored (ciphertext); the plaintext exists only in the
returned ProviderCredential, for the request that uses it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from integration_api.credentials.cache import CredentialCache
from integration_api.credentials.model import CredentialConfig, ProviderCredential
from integration_api.credentials.sealing import open_secret
from integration_api.database import Database
from integration_api.errors import FailedPrecondition
from integration_api.principal import Tenant
from integration_api.store.credential_rows import credential_not_found, parse_credential_id
from integration_api.store.credentials import CredentialRepository
from integration_api.store.models import CredentialRow, HealthCheckRecord
from integration_api.vault import Envelope


class CredentialResolver:
    def __init__(self, database: Database, envelope: Envelope, cache: CredentialCache) -> None:
        self._database = database
        self._envelope = envelope
        self._cache = cache

    async def _row(self, tenant: Tenant, credential_id: str) -> CredentialRow:
        lookup = await self._cache.get(credential_id)
        row = lookup.row
        if row is None:
            row = await CredentialRepository(self._database.pool).get(tenant, credential_id)
            # Refused by the cache if the credential changed since the miss (see credentials.cache).
            await self._cache.put(row, lookup.ticket)
        elif row.tenant != tenant:
            # Cached by id alone: another tenant's id must look exactly like a missing one.
            raise credential_not_found(parse_credential_id(credential_id))
        return row

    async def resolve_for_use(self, tenant: Tenant, credential_id: str) -> ProviderCredential:
        """The credential, decrypted, ready for one call; refused at once if disabled."""
        if not credential_id:
            raise credential_not_found(None)
        row = await self._row(tenant, credential_id)
        if row.status == "disabled":
            raise FailedPrecondition(
                "the credential is disabled", reason="CREDENTIAL_DISABLED", provider=row.provider
            )
        return ProviderCredential(
            id=row.id,
            provider=row.provider,
            config=CredentialConfig.from_json(row.config),
            secret=open_secret(self._envelope, row),
        )

    async def record_rejection(self, tenant: Tenant, credential_id: str, message: str) -> None:
        """The provider refused the stored key during use: record it as the last check."""
        check = HealthCheckRecord(checked_at=datetime.now(UTC), outcome="invalid", message=message)
        await CredentialRepository(self._database.pool).record_check(tenant, credential_id, check)
        await self._cache.invalidate(credential_id)
