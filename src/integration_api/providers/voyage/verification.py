"""Voyage AI: authentication and the credential check.

See: https://docs.voyageai.com/reference/embeddings-api.
Voyage has no free authenticated endpoint; the cheapest is a one-word embedding with the
smallest model (about one token).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest

PROVIDER = "voyageai"
VERIFICATION_MODEL = "voyage-3.5-lite"


def voyage_headers(credential: ProviderCredential) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key_of(credential)}"}


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "embeddings")
    body = {"input": ["ping"], "model": VERIFICATION_MODEL}
    return ProbeRequest("POST", url, voyage_headers(credential), json_body=body)


VERIFIER = HttpProbe(PROVIDER, verification_request)
