"""Telnyx: the credential check.

See: https://developers.telnyx.com/api/billing/get-user-balance (`GET /v2/balance`: free, the
minimal read-only check Telnyx's troubleshooting page suggests). A refused key is 401 with
error 10009 "Authentication failed". A 403 with error 10010 "Authorization failed" means the
opposite for the key: Telnyx authenticated it and only this action is not permitted (a key
whose user may not see billing), so the key is genuine.
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import FailedPrecondition, ServiceError
from integration_api.providers.http_errors import ErrorResponse, describe
from integration_api.providers.telnyx.account import PROVIDER, api_url, auth_headers
from integration_api.providers.verification import HttpProbe, ProbeRequest, Verdict

AUTHORIZATION_FAILED = "10010"
_NOT_PERMITTED = "TELNYX_ACTION_NOT_PERMITTED"


def verification_request(credential: ProviderCredential) -> ProbeRequest:
    return ProbeRequest("GET", api_url(credential, "balance"), auth_headers(credential))


def error_codes(body: object) -> list[str]:
    """The `code` of each entry of a Telnyx error body (`{"errors": [{"code": "10009"}]}`)."""
    entries = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return []
    return [str(entry["code"]) for entry in entries if isinstance(entry, dict) and "code" in entry]


def claim_not_permitted(response: ErrorResponse) -> ServiceError | None:
    if response.status_code != 403 or AUTHORIZATION_FAILED not in error_codes(response.body):
        return None
    message = describe(response, "did not permit the balance read")
    return FailedPrecondition(message, reason=_NOT_PERMITTED, provider=PROVIDER)


def read_not_permitted(error: ServiceError) -> Verdict | None:
    if error.reason != _NOT_PERMITTED:
        return None
    return Verdict("valid", "telnyx accepted the key, which may not read the account balance")


VERIFIER = HttpProbe(
    PROVIDER,
    verification_request,
    read_refusal=read_not_permitted,
    classify_error=claim_not_permitted,
)
