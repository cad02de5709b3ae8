"""Vonage: the credential check.

See: https://developer.vonage.com/en/api/account (`GET /account/get-balance`: free, Basic auth
with the API key and secret, 401 `authentication failed` for a refused pair). The Voice
application's private key is not checked here: Vonage offers no unbilled read that proves it
apart from listing calls, which the call-control side does with it.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.endpoints import join_url
from integration_api.providers.verification import HttpProbe, ProbeRequest
from integration_api.providers.vonage.account import PROVIDER, basic_auth_headers, rest_base_url


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    url = join_url(rest_base_url(credential), "account/get-balance")
    return ProbeRequest("GET", url, basic_auth_headers(credential))


VERIFIER = HttpProbe(PROVIDER, verification_request)
