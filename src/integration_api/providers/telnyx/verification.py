"""Telnyx: the credential check.

See: https://developers.telnyx.com/api/billing/get-user-balance (`GET /v2/balance`: free, the
minimal read-only check Telnyx's troubleshooting page suggests; 401 with error 10009
"Authentication failed" for a refused key).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.telnyx.account import PROVIDER, api_url, auth_headers
from integration_api.providers.verification import HttpProbe, ProbeRequest


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    return ProbeRequest("GET", api_url(credential, "balance"), auth_headers(credential))


VERIFIER = HttpProbe(PROVIDER, verification_request)
