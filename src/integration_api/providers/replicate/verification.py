"""Replicate: authentication and the credential check.

See: https://replicate.com/docs/reference/http#account.get.
Errors are RFC 7807 problem documents (`title`, `detail`, `status`).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest

PROVIDER = "replicate"


def replicate_headers(credential: ProviderCredential) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key_of(credential)}"}


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(resolve_base_url(PROVIDER, credential.config), "v1/account")
    return ProbeRequest("GET", url, replicate_headers(credential))


VERIFIER = HttpProbe(PROVIDER, verification_request)
