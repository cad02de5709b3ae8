"""Exotel: the credential check.

See: https://developer.exotel.com/docs/voice-v1/api-reference/balance
(`GET /v1/Accounts/{sid}/Balance.json`: free; 401 `RestException` "Authentication failed" for a
refused key and token). The host is the account's cluster (`config.region`).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.exotel.account import PROVIDER, account_url, auth_headers
from integration_api.providers.verification import HttpProbe, ProbeRequest


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    return ProbeRequest("GET", account_url(credential, "Balance.json"), auth_headers(credential))


VERIFIER = HttpProbe(PROVIDER, verification_request)
