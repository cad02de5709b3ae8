"""Exotel: where a stored account's REST calls go and how they authenticate.

See: https://developer.exotel.com/docs/references/authentication (Basic auth with the API key
and API token, the account SID in the path). The host depends on the account's cluster:
`config.region` `sg` is api.exotel.com (Singapore), `in` is api.in.exotel.com (Mumbai).
"""

from __future__ import annotations

import re

from integration_api.credentials.model import ExotelAccount, SecretMaterial
from integration_api.errors import FieldViolation
from integration_api.providers.account_secrets import misshapen_field, missing_fields
from integration_api.providers.telephony_accounts import BasicAccountApi

PROVIDER = "exotel"
# Account SIDs are the account's short name (`exotel1`, `acme-corp2`): part of every URL.
_ACCOUNT_SID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


# Every resource under `{base}/v1/Accounts/{AccountSid}`; Basic with the API key and API token.
_API = BasicAccountApi(
    PROVIDER,
    ExotelAccount,
    root=lambda account: f"v1/Accounts/{account.account_sid}",
    basic_pair=lambda account: (account.api_key, account.api_token),
)
exotel_account = _API.account
base_url = _API.base_url
account_url = _API.account_url
basic_pair = _API.basic_pair
auth_headers = _API.auth_headers


def secret_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """The API key, API token and account SID, all required."""
    if not isinstance(secret, ExotelAccount):
        return []
    problems = missing_fields(secret, "api_key", "api_token", "account_sid")
    problems += misshapen_field(
        secret, "account_sid", _ACCOUNT_SID, "must be an Exotel account SID"
    )
    return problems
