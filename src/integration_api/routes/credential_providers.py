"""The credential source the routed pipelines resolve through, noting each credential's provider.

A route names credentials, not providers; the pipeline resolves each credential when it calls
it. Noting the provider on the way spares the route a second resolution (a cache read and a
decryption) just to say in its report which provider each attempt reached. A credential's
provider never changes, so one note per credential id serves every call; the notes are bounded.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.llm.ports import CredentialSource
from integration_api.principal import Tenant

# Enough for every credential a busy worker routes through; the oldest note goes first.
MAX_NOTES = 4096


class ProviderNotingCredentials:
    """`CredentialSource` that remembers the provider of each credential it resolved."""

    def __init__(self, credentials: CredentialSource, capacity: int = MAX_NOTES) -> None:
        self._credentials = credentials
        self._capacity = capacity
        self._providers: dict[str, str] = {}

    async def resolve_for_use(self, tenant: Tenant, credential_id: str) -> ProviderCredential:
        credential = await self._credentials.resolve_for_use(tenant, credential_id)
        if credential_id not in self._providers:
            if len(self._providers) >= self._capacity:
                del self._providers[next(iter(self._providers))]
            self._providers[credential_id] = credential.provider
        return credential

    async def record_rejection(self, tenant: Tenant, credential_id: str, message: str) -> None:
        await self._credentials.record_rejection(tenant, credential_id, message)

    def provider_of(self, credential_id: str) -> str:
        """The provider of a credential resolved before ('' when none was)."""
        return self._providers.get(credential_id, "")
