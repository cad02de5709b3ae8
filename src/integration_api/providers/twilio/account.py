"""Twilio: where a stored account's REST calls go and how they authenticate.

See: https://www.twilio.com/docs/usage/requests-to-twilio (Basic auth with the account SID and
auth token, or an API key SID and secret). Every account resource lives under
`/2010-04-01/Accounts/{AccountSid}`; the API key, when given, is preferred over the auth token
because it can be revoked without touching the account's master secret.
"""

from __future__ import annotations

import re

from integration_api.credentials.model import SecretMaterial, TwilioAccount
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.providers.account_secrets import field_path, misshapen_field, missing_fields
from integration_api.providers.key_material import SECRET_FIELD
from integration_api.providers.telephony_accounts import BasicAccountApi

PROVIDER = "twilio"
API_VERSION_PATH = "2010-04-01"
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")


def _basic_pair(account: TwilioAccount) -> tuple[str, str]:
    """The API key SID and secret, else the account SID and auth token."""
    if account.api_key_sid and account.api_key_secret:
        return account.api_key_sid, account.api_key_secret
    if account.auth_token:
        return account.account_sid, account.auth_token
    raise InvalidArgument.for_field(SECRET_FIELD, "twilio needs an auth token or an API key")


# Every resource under `{base}/2010-04-01/Accounts/{AccountSid}` (`Calls.json`).
_API = BasicAccountApi(
    PROVIDER,
    TwilioAccount,
    root=lambda account: f"{API_VERSION_PATH}/Accounts/{account.account_sid}",
    basic_pair=_basic_pair,
)
twilio_account = _API.account
base_url = _API.base_url
account_url = _API.account_url
basic_pair = _API.basic_pair
auth_headers = _API.auth_headers


def secret_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """An account SID, and either an API key (SID and secret) or the auth token."""
    if not isinstance(secret, TwilioAccount):
        return []
    problems = missing_fields(secret, "account_sid")
    problems += misshapen_field(
        secret, "account_sid", _ACCOUNT_SID, "must be a Twilio account SID (AC and 32 hex digits)"
    )
    if secret.api_key_sid or secret.api_key_secret:
        problems += missing_fields(secret, "api_key_sid", "api_key_secret")
        problems += misshapen_field(
            secret,
            "api_key_sid",
            _API_KEY_SID,
            "must be a Twilio API key SID (SK and 32 hex digits)",
        )
    elif not secret.auth_token:
        path = field_path(secret, "auth_token")
        problems.append(FieldViolation(path, "is required unless an API key SID and secret are"))
    return problems
