"""Plivo: where a stored account's REST calls go and how they authenticate.

See: https://www.plivo.com/docs/voice/api/overview (Basic auth with the auth id and auth token;
every resource under `/v1/Account/{auth_id}/`, with a trailing slash as the SDK sends it).
"""

from __future__ import annotations

import re

from integration_api.credentials.model import PlivoAccount, SecretMaterial
from integration_api.errors import FieldViolation
from integration_api.providers.account_secrets import misshapen_field, missing_fields
from integration_api.providers.telephony_accounts import BasicAccountApi

PROVIDER = "plivo"
# Auth ids are upper-case letters and digits (`MA…` accounts, `SA…` subaccounts).
_AUTH_ID = re.compile(r"[A-Za-z0-9]{1,64}")


# Every resource under `{base}/v1/Account/{auth_id}/` (`Call/`), the trailing slash kept as the
# SDK sends it; Basic with the auth id and auth token.
_API = BasicAccountApi(
    PROVIDER,
    PlivoAccount,
    root=lambda account: f"v1/Account/{account.auth_id}/",
    basic_pair=lambda account: (account.auth_id, account.auth_token),
)
plivo_account = _API.account
base_url = _API.base_url
account_url = _API.account_url
basic_pair = _API.basic_pair
auth_headers = _API.auth_headers


def secret_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """The auth id (letters and digits: it is part of every URL) and the auth token."""
    if not isinstance(secret, PlivoAccount):
        return []
    problems = missing_fields(secret, "auth_id", "auth_token")
    problems += misshapen_field(secret, "auth_id", _AUTH_ID, "must be a Plivo auth id")
    return problems
