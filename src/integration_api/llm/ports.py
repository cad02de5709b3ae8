"""What the chat and embedding pipelines need from the rest of the service."""

from __future__ import annotations

from typing import Protocol

from integration_api.credentials.model import ProviderCredential
from integration_api.principal import Tenant


class CredentialSource(Protocol):
    """Stored credentials, decrypted for one call (the credential operations offer this)."""

    async def resolve_for_use(self, tenant: Tenant, credential_id: str) -> ProviderCredential:
        """The credential, decrypted in memory for this call.

        Raises:
            NotFound: unknown id, or another tenant's.
            FailedPrecondition: reason CREDENTIAL_DISABLED, the credential is disabled.
        """
        ...

    async def record_rejection(self, tenant: Tenant, credential_id: str, message: str) -> None:
        """Record that the provider refused the key while it was in use (its last check)."""
        ...
