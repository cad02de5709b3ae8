"""Twilio: the credential check.

See: https://www.twilio.com/docs/iam/api/account (fetch an Account: free, authenticated, the
same Basic credentials as every REST call). A refused key is 401 with Twilio error 20003. The
answer carries the account's `status`: a closed account's keys are dead even though the
request itself was accepted.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.twilio.account import PROVIDER, account_url, auth_headers
from integration_api.providers.verification import HttpProbe, ProbeRequest, Verdict


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    # The account resource itself: `{base}/2010-04-01/Accounts/{Sid}.json`.
    return ProbeRequest("GET", account_url(credential) + ".json", auth_headers(credential))


def read_account_status(body: object) -> Verdict | None:
    status = body.get("status") if isinstance(body, dict) else None
    if status == "closed":
        return Verdict("invalid", "twilio accepted the request, but the account is closed")
    if status == "suspended":
        return Verdict("valid", "twilio accepted the credential; the account is suspended")
    return None


VERIFIER = HttpProbe(PROVIDER, verification_request, read_answer=read_account_status)
