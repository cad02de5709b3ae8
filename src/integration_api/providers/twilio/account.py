"""Twilio: where a stored account's REST calls go and how they authenticate.

See: https://www.twilio.com/docs/usage/requests-to-twilio (Basic auth with the account SID and
auth token, or an API key SID and secret). Every account resource lives under
`/2010-04-01/Accounts/{AccountSid}`; the API key, when given, is preferred over the auth token
because it can be revoked without touching the account's master secret.
"""

from __future__ import annotations

import re

from integration_api.credentials.model import ProviderCredential, SecretMaterial, TwilioAccount
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.providers.account_secrets import (
    account_secret_of,
    basic_authorization,
    field_path,
    misshapen_field,
    missing_fields,
)
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import SECRET_FIELD

PROVIDER = "twilio"
API_VERSION_PATH = "2010-04-01"
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")


def twilio_account(credential: ProviderCredential) -> TwilioAccount:
    """The Twilio secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, TwilioAccount)


def base_url(credential: ProviderCredential) -> str:
    """The REST API's root: `config.base_url`, else Twilio's host for the configured region."""
    return resolve_base_url(PROVIDER, credential.config)


def account_url(credential: ProviderCredential, path: str = "") -> str:
    """`{base}/2010-04-01/Accounts/{AccountSid}` followed by `path` (e.g. `Calls.json`)."""
    sid = twilio_account(credential).account_sid
    root = join_url(base_url(credential), f"{API_VERSION_PATH}/Accounts/{sid}")
    return join_url(root, path) if path else root


def basic_pair(credential: ProviderCredential) -> tuple[str, str]:
    """The Basic user and password: the API key SID and secret, else the SID and auth token."""
    account = twilio_account(credential)
    if account.api_key_sid and account.api_key_secret:
        return account.api_key_sid, account.api_key_secret
    if account.auth_token:
        return account.account_sid, account.auth_token
    raise InvalidArgument.for_field(SECRET_FIELD, "twilio needs an auth token or an API key")


def auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for a REST call with this credential."""
    return {"Authorization": basic_authorization(*basic_pair(credential))}


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
