"""What the credential operations need to know of the providers, as ports they are handed.

The providers' registry and the egress policy sit above the credentials (a provider reads the
credentials' model), so the operations do not import them: `providers.credential_catalog`
implements these, and the process assembly passes them in.
"""

from __future__ import annotations

from typing import Protocol

from integration_api.credentials.model import CredentialConfig, ProviderCredential, SecretMaterial
from integration_api.credentials.verification import VerificationResult
from integration_api.errors import FieldViolation


class ProviderCatalog(Protocol):
    """The known providers: which secrets and config each accepts, and how its keys are checked."""

    def require_known(self, provider: str) -> None:
        """Raises `InvalidArgument` on the `provider` field for an unknown id."""
        ...

    async def verify(self, credential: ProviderCredential) -> VerificationResult:
        """The provider's check of the credential (its cheapest authenticated call).

        Raises `InvalidArgument` for an unknown provider id; never raises for what the provider
        or the network does: that is the outcome.
        """
        ...

    def config_violations(self, provider: str, config: CredentialConfig) -> list[FieldViolation]:
        """What is wrong with `config` for this provider (nothing: an empty list)."""
        ...

    def credential_violations(
        self, provider: str, config: CredentialConfig, secret: SecretMaterial
    ) -> list[FieldViolation]:
        """What is wrong with a credential to be stored: its secret and its config."""
        ...

    def token_uri_of(self, secret: SecretMaterial | None) -> str:
        """The token endpoint a service-account key is exchanged at ('' for other secrets)."""
        ...


class DestinationPolicy(Protocol):
    """Where a provider's key may be sent (the egress policy, without DNS pinning)."""

    async def refusal(self, provider: str, url: str) -> str | None:
        """Why `provider`'s key may not go to `url`, or None."""
        ...
