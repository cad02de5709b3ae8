"""The domain's picture of a provider credential: non-secret config and secret material.

Secret material lives only in memory, for the request that uses it. Every class holding it has a
redacted `repr`, so an accidental log line or exception message shows `<redacted>`, never the key.
It is serialized to bytes only to be encrypted by the vault (`to_plaintext`) and parsed back
after decryption (`secret_from_plaintext`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

REDACTED = "<redacted>"
# The request fields a credential violation names.
SECRET_FIELD = "secret"
BASE_URL_FIELD = "config.base_url"
REGION_FIELD = "config.region"


@dataclass(frozen=True)
class CredentialConfig:
    """Non-secret settings of a credential; `base_url` is the only place a key is ever sent."""

    base_url: str = ""
    default_model: str = ""
    region: str = ""
    api_version: str = ""
    deployment: str = ""
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "default_model": self.default_model,
            "region": self.region,
            "api_version": self.api_version,
            "deployment": self.deployment,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CredentialConfig:
        return cls(
            base_url=str(data.get("base_url", "")),
            default_model=str(data.get("default_model", "")),
            region=str(data.get("region", "")),
            api_version=str(data.get("api_version", "")),
            deployment=str(data.get("deployment", "")),
            extra=MappingProxyType(
                {str(k): str(v) for k, v in dict(data.get("extra", {})).items()}
            ),
        )


class _RedactedRepr:
    """Mixin: neither `repr` nor `str` ever shows a field value."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({REDACTED})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class ApiKey(_RedactedRepr):
    key: str

    kind = "api_key"

    def hint_source(self) -> str:
        return self.key


@dataclass(frozen=True, repr=False)
class AzureKey(_RedactedRepr):
    """An Azure OpenAI resource key (sent as the `api-key` header)."""

    api_key: str

    kind = "azure"

    def hint_source(self) -> str:
        return self.api_key


@dataclass(frozen=True, repr=False)
class AwsKeys(_RedactedRepr):
    access_key_id: str
    secret_access_key: str
    session_token: str = ""

    kind = "aws"

    def hint_source(self) -> str:
        return self.secret_access_key


@dataclass(frozen=True, repr=False)
class GcpServiceAccount(_RedactedRepr):
    """A Google service-account key file, kept as the JSON text the caller gave."""

    json_text: str

    kind = "gcp_service_account"

    def hint_source(self) -> str:
        try:
            return str(json.loads(self.json_text).get("private_key_id", ""))
        except (ValueError, AttributeError):
            return ""

    def parsed(self) -> dict[str, Any]:
        value = json.loads(self.json_text)
        if not isinstance(value, dict):
            raise ValueError("service account JSON is not an object")
        return value


SecretMaterial = ApiKey | AzureKey | AwsKeys | GcpServiceAccount


def secret_hint(secret: SecretMaterial) -> str:
    """The last four characters of the secret, shown to people so they can tell keys apart."""
    source = secret.hint_source()
    if len(source) < 12:
        return "…" if source else ""
    return "…" + source[-4:]


def to_plaintext(secret: SecretMaterial) -> bytes:
    """Serialize secret material for encryption (the vault is the only reader of these bytes)."""
    if isinstance(secret, ApiKey):
        body: dict[str, str] = {"key": secret.key}
    elif isinstance(secret, AzureKey):
        body = {"api_key": secret.api_key}
    elif isinstance(secret, AwsKeys):
        body = {
            "access_key_id": secret.access_key_id,
            "secret_access_key": secret.secret_access_key,
            "session_token": secret.session_token,
        }
    else:
        body = {"json": secret.json_text}
    return json.dumps({"kind": secret.kind, **body}, separators=(",", ":")).encode()


def secret_from_plaintext(plaintext: bytes) -> SecretMaterial:
    data = json.loads(plaintext)
    kind = data["kind"]
    if kind == ApiKey.kind:
        return ApiKey(key=data["key"])
    if kind == AzureKey.kind:
        return AzureKey(api_key=data["api_key"])
    if kind == AwsKeys.kind:
        return AwsKeys(
            access_key_id=data["access_key_id"],
            secret_access_key=data["secret_access_key"],
            session_token=data.get("session_token", ""),
        )
    if kind == GcpServiceAccount.kind:
        return GcpServiceAccount(json_text=data["json"])
    raise ValueError("unknown secret kind")


@dataclass(frozen=True)
class ProviderCredential:
    """What a provider adapter receives: everything needed to call the provider once."""

    id: str
    provider: str
    config: CredentialConfig
    secret: SecretMaterial
