"""Google Vertex AI: service-account authentication and the credential check.

See: https://cloud.google.com/vertex-ai/docs/reference/rest.
The credential is a service-account key file; the project comes from its `project_id`, the
location from `config.region`. The check is the token exchange itself: Google signs nothing
for a key it does not know, so a token coming back proves the key (nothing is billed).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.credentials.verification import VerificationResult
from integration_api.providers.google.service_account import (
    exchange_for_access_token,
    parse_service_account,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.key_material import service_account_of
from integration_api.providers.verification import Verdict, run_verification

PROVIDER = "vertex-ai"


class VertexVerifier:
    """Verifies a service-account key by obtaining an access token with it."""

    async def verify(
        self, credential: ProviderCredential, http: ProviderClient
    ) -> VerificationResult:
        async def attempt() -> Verdict:
            account = parse_service_account(service_account_of(credential))
            await exchange_for_access_token(account, http, provider=PROVIDER)
            return Verdict("valid", "google issued an access token for the service account")

        return await run_verification(credential, attempt)


VERIFIER = VertexVerifier()
