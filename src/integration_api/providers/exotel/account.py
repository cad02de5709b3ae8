"""Exotel: where a stored account's REST calls go and how they authenticate.

See: https://developer.exotel.com/docs/references/authentication (Basic auth with the API key
and API token, the account SID in the path). The host depends on the account's cluster:
`config.region` `sg` is api.exotel.com (Singapore), `in` is api.in.exotel.com (Mumbai).
"""

from __future__ import annotations

import re

from integration_api.credentials.model import ExotelAccount, ProviderCredential, SecretMaterial
from integration_api.errors import FieldViolation
from integration_api.providers.account_secrets import (
    account_secret_of,
    basic_authorization,
    misshapen_field,
    missing_fields,
)
from integration_api.providers.endpoints import join_url, resolve_base_url

PROVIDER = "exotel"
# Account SIDs are the account's short name (`exotel1`, `acme-corp2`): part of every URL.
_ACCOUNT_SID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def exotel_account(credential: ProviderCredential) -> ExotelAccount:
    """The Exotel secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, ExotelAccount)


def base_url(credential: ProviderCredential) -> str:
    """The REST API's root: `config.base_url`, else the host of `config.region`."""
    return resolve_base_url(PROVIDER, credential.config)


def account_url(credential: ProviderCredential, path: str = "") -> str:
    """`{base}/v1/Accounts/{AccountSid}` followed by `path` (e.g. `Calls/connect`)."""
    sid = exotel_account(credential).account_sid
    root = join_url(base_url(credential), f"v1/Accounts/{sid}")
    return join_url(root, path) if path else root


def basic_pair(credential: ProviderCredential) -> tuple[str, str]:
    """The Basic user and password: the API key and API token."""
    account = exotel_account(credential)
    return account.api_key, account.api_token


def auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for a REST call with this credential."""
    return {"Authorization": basic_authorization(*basic_pair(credential))}


def secret_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """The API key, API token and account SID, all required."""
    if not isinstance(secret, ExotelAccount):
        return []
    problems = missing_fields(secret, "api_key", "api_token", "account_sid")
    problems += misshapen_field(
        secret, "account_sid", _ACCOUNT_SID, "must be an Exotel account SID"
    )
    return problems
