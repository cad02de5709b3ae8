"""Plivo: where a stored account's REST calls go and how they authenticate.

See: https://www.plivo.com/docs/voice/api/overview (Basic auth with the auth id and auth token;
every resource under `/v1/Account/{auth_id}/`, with a trailing slash as the SDK sends it).
"""

from __future__ import annotations

import re

from integration_api.credentials.model import PlivoAccount, ProviderCredential, SecretMaterial
from integration_api.errors import FieldViolation
from integration_api.providers.account_secrets import (
    account_secret_of,
    basic_authorization,
    misshapen_field,
    missing_fields,
)
from integration_api.providers.endpoints import join_url, resolve_base_url

PROVIDER = "plivo"
# Auth ids are upper-case letters and digits (`MA…` accounts, `SA…` subaccounts).
_AUTH_ID = re.compile(r"[A-Za-z0-9]{1,64}")


def plivo_account(credential: ProviderCredential) -> PlivoAccount:
    """The Plivo secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, PlivoAccount)


def base_url(credential: ProviderCredential) -> str:
    """The REST API's root: `config.base_url`, else `https://api.plivo.com`."""
    return resolve_base_url(PROVIDER, credential.config)


def account_url(credential: ProviderCredential, path: str = "") -> str:
    """`{base}/v1/Account/{auth_id}/` followed by `path` (e.g. `Call/`), slash kept."""
    auth_id = plivo_account(credential).auth_id
    root = join_url(base_url(credential), f"v1/Account/{auth_id}/")
    return join_url(root, path) if path else root


def basic_pair(credential: ProviderCredential) -> tuple[str, str]:
    """The Basic user and password: the auth id and auth token."""
    account = plivo_account(credential)
    return account.auth_id, account.auth_token


def auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for a REST call with this credential."""
    return {"Authorization": basic_authorization(*basic_pair(credential))}


def secret_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """The auth id (letters and digits: it is part of every URL) and the auth token."""
    if not isinstance(secret, PlivoAccount):
        return []
    problems = missing_fields(secret, "auth_id", "auth_token")
    problems += misshapen_field(secret, "auth_id", _AUTH_ID, "must be a Plivo auth id")
    return problems
