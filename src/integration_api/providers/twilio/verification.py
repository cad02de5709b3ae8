"""Twilio: the credential check.

See: https://www.twilio.com/docs/iam/api/account (fetch an Account: free, authenticated, the
same Basic credentials as every REST call). A refused key is 401 with Twilio error 20003. The
answer carries the account's `status`: a closed account's keys are dead even though the
request itself was accepted.

A secret with both an API key and the auth token is checked with each: REST calls use the key,
but webhook signatures are made with the auth token, so a wrong token would make every webhook
look forged while the key alone passed.
"""

from __future__ import annotations

from dataclasses import replace

from integration_api.credentials.model import ProviderCredential
from integration_api.credentials.verification import VerificationResult
from integration_api.providers.account_secrets import basic_authorization
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.twilio.account import (
    PROVIDER,
    account_url,
    auth_headers,
    twilio_account,
)
from integration_api.providers.verification import HttpProbe, ProbeRequest, Verdict


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    # The account resource itself: `{base}/2010-04-01/Accounts/{Sid}.json`.
    return ProbeRequest("GET", account_url(credential) + ".json", auth_headers(credential))


def auth_token_request(credential: ProviderCredential) -> ProbeRequest:
    """The same read, authenticated with the account SID and auth token."""
    account = twilio_account(credential)
    authorization = basic_authorization(account.account_sid, account.auth_token)
    return ProbeRequest("GET", account_url(credential) + ".json", {"Authorization": authorization})


def read_account_status(body: object) -> Verdict | None:
    status = body.get("status") if isinstance(body, dict) else None
    if status == "closed":
        return Verdict("invalid", "twilio accepted the request, but the account is closed")
    if status == "suspended":
        return Verdict("valid", "twilio accepted the credential; the account is suspended")
    return None


_REST_PROBE = HttpProbe(PROVIDER, verification_request, read_answer=read_account_status)
_AUTH_TOKEN_PROBE = HttpProbe(PROVIDER, auth_token_request)


class TwilioVerifier:
    """Checks the REST credentials, then the auth token when an API key stood in for it."""

    async def verify(
        self, credential: ProviderCredential, http: ProviderClient
    ) -> VerificationResult:
        rest = await _REST_PROBE.verify(credential, http)
        account = twilio_account(credential)
        if rest.outcome != "valid" or not (account.api_key_sid and account.auth_token):
            return rest
        token = await _AUTH_TOKEN_PROBE.verify(credential, http)
        latency_ms = rest.latency_ms + token.latency_ms
        if token.outcome == "invalid":
            message = f"the API key is valid, but the auth token is not: {token.message}"
            return replace(token, message=message, latency_ms=latency_ms)
        return replace(rest, latency_ms=latency_ms)


VERIFIER = TwilioVerifier()
