"""Vonage: where a stored account's REST calls go and how they authenticate.

Two hosts and two schemes. Account reads (balance) go to rest.nexmo.com with Basic auth of the
API key and secret (https://developer.vonage.com/api/account); the Voice API goes to
api.nexmo.com (or a regional host) with a short-lived RS256 JWT signed with the application's
private key (https://developer.vonage.com/en/getting-started/concepts/authentication). A
configured `config.base_url` replaces both hosts (a proxy or a test double serves both paths).
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from integration_api.credentials.model import ProviderCredential, SecretMaterial, VonageAccount
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
from integration_api.providers.vonage.regions import REST_BASE_URL

PROVIDER = "vonage"
_API_KEY = re.compile(r"[A-Za-z0-9]{1,64}")
_APPLICATION_ID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def vonage_account(credential: ProviderCredential) -> VonageAccount:
    """The Vonage secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, VonageAccount)


def rest_base_url(credential: ProviderCredential) -> str:
    """The account API's root: `config.base_url`, else `https://rest.nexmo.com`."""
    return resolve_base_url(PROVIDER, credential.config, default=REST_BASE_URL)


def voice_base_url(credential: ProviderCredential) -> str:
    """The Voice API's root: `config.base_url`, else api.nexmo.com or the region's host."""
    return resolve_base_url(PROVIDER, credential.config)


def voice_url(credential: ProviderCredential, path: str) -> str:
    """`{voice base}/v1/` followed by `path` (e.g. `calls`)."""
    return join_url(join_url(voice_base_url(credential), "v1"), path)


def basic_pair(credential: ProviderCredential) -> tuple[str, str]:
    """The Basic user and password of the account API: the API key and secret."""
    account = vonage_account(credential)
    if not account.api_secret:
        raise InvalidArgument.for_field(SECRET_FIELD, "vonage needs the API secret for this call")
    return account.api_key, account.api_secret


def basic_auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for an account API call (Voice calls use a JWT instead)."""
    return {"Authorization": basic_authorization(*basic_pair(credential))}


def secret_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """The API key and secret; for voice, the application id with its RSA private key (PEM)."""
    if not isinstance(secret, VonageAccount):
        return []
    problems = missing_fields(secret, "api_key", "api_secret")
    problems += misshapen_field(secret, "api_key", _API_KEY, "must be a Vonage API key")
    if secret.application_id or secret.private_key:
        problems += missing_fields(secret, "application_id", "private_key")
        problems += misshapen_field(
            secret, "application_id", _APPLICATION_ID, "must be a Vonage application id (a UUID)"
        )
        if secret.private_key and not _is_rsa_private_key(secret.private_key):
            path = field_path(secret, "private_key")
            problems.append(FieldViolation(path, "must be an unencrypted RSA private key (PEM)"))
    return problems


def _is_rsa_private_key(pem: str) -> bool:
    # The voice calls sign RS256 JWTs with it: a key that does not load would fail every call.
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        return False
    return isinstance(key, RSAPrivateKey)
