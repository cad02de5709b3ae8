"""The providers as the credential operations see them (`credentials.catalog`'s ports)."""

from __future__ import annotations

from dataclasses import dataclass

from integration_api.credentials.model import CredentialConfig, ProviderCredential, SecretMaterial
from integration_api.credentials.verification import VerificationResult
from integration_api.errors import FieldViolation
from integration_api.providers.egress import EgressPolicy, base_url_refusal
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.registry import PROVIDERS, get_provider


@dataclass(frozen=True)
class RegistryCatalog:
    """`ProviderCatalog` over `providers.registry`, checking keys through the shared client."""

    http: ProviderClient

    def require_known(self, provider: str) -> None:
        get_provider(provider)

    async def verify(self, credential: ProviderCredential) -> VerificationResult:
        return await get_provider(credential.provider).verifier.verify(credential, self.http)

    def config_violations(self, provider: str, config: CredentialConfig) -> list[FieldViolation]:
        return get_provider(provider).config_violations(config)

    def credential_violations(
        self, provider: str, config: CredentialConfig, secret: SecretMaterial
    ) -> list[FieldViolation]:
        return get_provider(provider).violations(config, secret)

    def token_uri_of(self, secret: SecretMaterial | None) -> str:
        # Only a provider whose secrets name a destination of their own declares how to read it.
        if secret is None:
            return ""
        named = (
            spec.secret_destination(secret)
            for spec in PROVIDERS.values()
            if spec.secret_destination is not None
        )
        return next((url for url in named if url), "")


@dataclass(frozen=True)
class EgressDestinations:
    """`DestinationPolicy` over the egress policy: a host name not the provider's is resolved."""

    policy: EgressPolicy

    async def refusal(self, provider: str, url: str) -> str | None:
        return await base_url_refusal(self.policy, provider, url)
