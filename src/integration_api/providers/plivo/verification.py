"""Plivo: the credential check.

See: https://www.plivo.com/docs/account/api/account (`GET /v1/Account/{auth_id}/`: the account's
details, free; 401 for a refused auth id and token).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.plivo.account import PROVIDER, account_url, auth_headers
from integration_api.providers.verification import HttpProbe, ProbeRequest


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    return ProbeRequest("GET", account_url(credential), auth_headers(credential))


VERIFIER = HttpProbe(PROVIDER, verification_request)
