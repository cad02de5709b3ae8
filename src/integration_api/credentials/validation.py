"""Checks of caller input that do not depend on the provider (those live in the registry)."""

from __future__ import annotations

import unicodedata

from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    CredentialConfig,
    CredentialLimits,
    GcpServiceAccount,
    SecretMaterial,
)
from integration_api.errors import FieldViolation

MAX_NAME_LENGTH = 128
MAX_REASON_LENGTH = 512
MAX_EXTRA_ENTRIES = 32
MAX_EXTRA_VALUE_LENGTH = 1024


def name_violations(name: str, field: str = "name") -> list[FieldViolation]:
    stripped = name.strip()
    if not stripped:
        return [FieldViolation(field, "is required")]
    if len(stripped) > MAX_NAME_LENGTH:
        return [FieldViolation(field, f"must be at most {MAX_NAME_LENGTH} characters")]
    if stripped != name:
        return [FieldViolation(field, "must not start or end with white space")]
    if any(unicodedata.category(character).startswith("C") for character in name):
        return [FieldViolation(field, "must not contain control characters")]
    return []


def reason_violations(reason: str, field: str = "reason") -> list[FieldViolation]:
    if len(reason) > MAX_REASON_LENGTH:
        return [FieldViolation(field, f"must be at most {MAX_REASON_LENGTH} characters")]
    return []


def extra_violations(extra: dict[str, str]) -> list[FieldViolation]:
    if len(extra) > MAX_EXTRA_ENTRIES:
        return [FieldViolation("config.extra", f"at most {MAX_EXTRA_ENTRIES} entries")]
    return [
        FieldViolation(f"config.extra[{key!r}]", f"at most {MAX_EXTRA_VALUE_LENGTH} characters")
        for key, value in extra.items()
        if len(value) > MAX_EXTRA_VALUE_LENGTH
    ]


# Far above any provider's published tier, and low enough that the fleet-wide counters stay small.
MAX_LIMITS = {
    "requests_per_minute": 1_000_000,
    "tokens_per_minute": 1_000_000_000,
    "concurrent_calls": 100_000,
}


def limits_violations(limits: CredentialLimits) -> list[FieldViolation]:
    values = limits.to_json()
    return [
        FieldViolation(f"config.limits.{name}", f"must be at most {ceiling:,}")
        for name, ceiling in MAX_LIMITS.items()
        if values[name] > ceiling
    ]


def config_violations(config: CredentialConfig) -> list[FieldViolation]:
    """What is wrong with a config whatever its provider: its extra entries and its limits."""
    return extra_violations(dict(config.extra)) + limits_violations(config.limits)


# The most bytes (UTF-8) each secret field may hold. Far above any real value (provider API keys
# are under 300 characters, an AWS access key id at most 128, an STS session token a few KB, a
# Google service-account key file about 2.4 KB) and far below what would bloat every stored row
# and every request header that carries the secret.
SECRET_FIELD_LIMITS = {
    "secret.api_key.key": 4096,
    "secret.azure.api_key": 4096,
    "secret.aws.access_key_id": 128,
    "secret.aws.secret_access_key": 1024,
    "secret.aws.session_token": 8192,
    "secret.gcp_service_account.json": 16384,
}
# Telephony account fields: identifiers and tokens are short; a PEM private key is a few KB.
_ACCOUNT_FIELD_LIMIT = 1024
_ACCOUNT_FIELD_LIMITS = {"private_key": 16384}


def _secret_fields(secret: SecretMaterial) -> dict[str, str]:
    """Each field of the secret under its path in the request."""
    if isinstance(secret, ApiKey):
        return {"secret.api_key.key": secret.key}
    if isinstance(secret, AzureKey):
        return {"secret.azure.api_key": secret.api_key}
    if isinstance(secret, AwsKeys):
        return {
            "secret.aws.access_key_id": secret.access_key_id,
            "secret.aws.secret_access_key": secret.secret_access_key,
            "secret.aws.session_token": secret.session_token,
        }
    if isinstance(secret, GcpServiceAccount):
        return {"secret.gcp_service_account.json": secret.json_text}
    return {f"secret.{secret.kind}.{name}": value for name, value in secret.field_values().items()}


def _field_limit(path: str) -> int:
    if path in SECRET_FIELD_LIMITS:
        return SECRET_FIELD_LIMITS[path]
    return _ACCOUNT_FIELD_LIMITS.get(path.rsplit(".", 1)[-1], _ACCOUNT_FIELD_LIMIT)


def secret_size_violations(secret: SecretMaterial) -> list[FieldViolation]:
    """The secret's fields that are longer than any real value of theirs."""
    return [
        FieldViolation(path, f"must be at most {_field_limit(path)} bytes")
        for path, value in _secret_fields(secret).items()
        if len(value.encode("utf-8", "surrogatepass")) > _field_limit(path)
    ]
