"""The capabilities a provider module can offer, one Protocol each, and their result types.

A provider implements only what it supports; `registry.PROVIDERS` says which object serves
which capability for which provider id. Every method receives the process-wide
`httpx.AsyncClient`, so tests hand in one that talks to a local server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from integration_api.credentials_model import ProviderCredential

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


class CredentialVerifier(Protocol):
    """Checks a credential with the cheapest authenticated call its provider offers."""

    async def verify(
        self, credential: ProviderCredential, http: httpx.AsyncClient
    ) -> VerificationResult:
        """Never raises for what the provider or the network does; that is the outcome."""
        ...
