"""What checking a credential with its provider finds, and the capability that checks it.

Each provider module offers a `CredentialVerifier`; the credential operations and the health
checks read its `VerificationResult` without knowing which provider answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from integration_api.credentials.model import ProviderCredential

VerificationOutcome = Literal["valid", "invalid", "unreachable"]


@dataclass(frozen=True)
class VerificationResult:
    """What a credential check found.

    `valid`: the provider accepted the credential. `invalid`: it refused it (bad, revoked or
    misconfigured). `unreachable`: no verdict (network failure, timeout, 5xx, rate limit).
    `message` is meant for people; it is sanitized and never contains secret material.
    """

    outcome: VerificationOutcome
    latency_ms: int
    message: str


# The HTTP client the providers own; a verifier only takes it, hence contravariant.
ClientT_contra = TypeVar("ClientT_contra", contravariant=True)


class CredentialVerifier(Protocol[ClientT_contra]):
    """Checks a credential with the cheapest authenticated call its provider offers."""

    async def verify(
        self, credential: ProviderCredential, http: ClientT_contra
    ) -> VerificationResult:
        """Never raises for what the provider or the network does; that is the outcome."""
        ...
