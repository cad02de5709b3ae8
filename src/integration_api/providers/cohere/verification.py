"""Cohere: authentication and the credential check.

See: https://docs.cohere.com/reference/checkapikey.
`POST /v1/check-api-key` may answer 200 with `{"valid": false}`: that is a refused key too.
Cohere also uses 498 for an invalid token (mapped like 401 by the generic table).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest, Verdict

PROVIDER = "cohere"


def cohere_headers(credential: ProviderCredential) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key_of(credential)}"}


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "v1/check-api-key")
    return ProbeRequest("POST", url, cohere_headers(credential))


def read_key_check(body: object) -> Verdict | None:
    if isinstance(body, dict) and body.get("valid") is True:
        return None
    return Verdict("invalid", "cohere reports the API key is not valid")


VERIFIER = HttpProbe(PROVIDER, verification_request, read_answer=read_key_check)
