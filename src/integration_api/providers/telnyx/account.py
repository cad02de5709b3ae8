"""Telnyx: where a stored account's REST calls go and how they authenticate.

See: https://developers.telnyx.com/development/api-fundamentals/authentication
(`Authorization: Bearer <API key>`; every resource under `/v2/`).
"""

from __future__ import annotations

import base64
import binascii
import re

from integration_api.credentials.model import (
    CredentialConfig,
    ProviderCredential,
    SecretMaterial,
    TelnyxAccount,
)
from integration_api.errors import FieldViolation
from integration_api.providers.account_secrets import account_secret_of, field_path, missing_fields
from integration_api.providers.endpoints import join_url, resolve_base_url

PROVIDER = "telnyx"
# Call Control needs the Voice API application ("connection") that places the call.
CONNECTION_ID_SETTING = "connection_id"
_CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ED25519_PUBLIC_KEY_BYTES = 32


def telnyx_account(credential: ProviderCredential) -> TelnyxAccount:
    """The Telnyx secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, TelnyxAccount)


def base_url(credential: ProviderCredential) -> str:
    """The REST API's root: `config.base_url`, else `https://api.telnyx.com`."""
    return resolve_base_url(PROVIDER, credential.config)


def api_url(credential: ProviderCredential, path: str) -> str:
    """`{base}/v2/` followed by `path` (e.g. `calls`)."""
    return join_url(join_url(base_url(credential), "v2"), path)


def connection_id(credential: ProviderCredential) -> str:
    """The credential's default `config.extra["connection_id"]` ('' when none is set)."""
    return credential.config.extra.get(CONNECTION_ID_SETTING, "")


def auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for a REST call with this credential."""
    return {"Authorization": f"Bearer {telnyx_account(credential).api_key}"}


def secret_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """The API key; the public key, when given, is a base64 Ed25519 key (32 bytes)."""
    if not isinstance(secret, TelnyxAccount):
        return []
    problems = missing_fields(secret, "api_key")
    if secret.public_key and not _is_ed25519_public_key(secret.public_key):
        path = field_path(secret, "public_key")
        problems.append(FieldViolation(path, "must be a base64 Ed25519 public key (32 bytes)"))
    return problems


def _is_ed25519_public_key(text: str) -> bool:
    try:
        return len(base64.b64decode(text.strip(), validate=True)) == _ED25519_PUBLIC_KEY_BYTES
    except (binascii.Error, ValueError):
        return False


def connection_violations(config: CredentialConfig) -> list[FieldViolation]:
    """`config.extra["connection_id"]`, when given, is a Telnyx connection id."""
    value = config.extra.get(CONNECTION_ID_SETTING)
    if value is not None and not _CONNECTION_ID.fullmatch(value):
        field = f"config.extra.{CONNECTION_ID_SETTING}"
        return [FieldViolation(field, "must be a Telnyx connection (Voice API application) id")]
    return []
