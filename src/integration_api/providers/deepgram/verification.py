"""Deepgram: authentication and the credential check.

See: https://developers.deepgram.com/reference/manage/projects/list.
API keys use the `Token` scheme; `Bearer` is for short-lived JWTs, not for keys.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest

PROVIDER = "deepgram"


def deepgram_headers(credential: ProviderCredential) -> dict[str, str]:
    return {"Authorization": f"Token {api_key_of(credential)}"}


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "v1/projects")
    return ProbeRequest("GET", url, deepgram_headers(credential))


VERIFIER = HttpProbe(PROVIDER, verification_request)
