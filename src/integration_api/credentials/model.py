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


class _AccountSecret(_RedactedRepr):
    """A telephony account's secret: several named strings, some of them secret.

    `FIELDS` names every field in the order of the contract's message; `SECRET_FIELDS` those that
    must never appear in a message or log (identifiers such as an account SID may); `HINT_FIELD`
    the one whose last characters tell keys apart.
    """

    kind: str
    FIELDS: tuple[str, ...] = ()
    SECRET_FIELDS: tuple[str, ...] = ()
    HINT_FIELD: str = ""

    def field_values(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in self.FIELDS}

    def secret_values(self) -> tuple[str, ...]:
        return tuple(value for name in self.SECRET_FIELDS if (value := getattr(self, name)))

    def hint_source(self) -> str:
        return str(getattr(self, self.HINT_FIELD))


@dataclass(frozen=True, repr=False)
class TwilioAccount(_AccountSecret):
    """A Twilio account SID with its auth token, or with an API key (`SK…` SID and secret).

    REST calls use the API key when one is given, else the auth token; webhook signatures are
    made with the auth token only.
    """

    account_sid: str
    auth_token: str = ""
    api_key_sid: str = ""
    api_key_secret: str = ""

    kind = "twilio"
    FIELDS = ("account_sid", "auth_token", "api_key_sid", "api_key_secret")
    SECRET_FIELDS = ("auth_token", "api_key_secret")

    def hint_source(self) -> str:
        return self.api_key_secret or self.auth_token


@dataclass(frozen=True, repr=False)
class VonageAccount(_AccountSecret):
    """A Vonage API key and secret; for voice, an application and its private key (PEM); the
    signature secret that signed webhooks are checked with."""

    api_key: str
    api_secret: str = ""
    application_id: str = ""
    private_key: str = ""
    signature_secret: str = ""

    kind = "vonage"
    FIELDS = ("api_key", "api_secret", "application_id", "private_key", "signature_secret")
    SECRET_FIELDS = ("api_secret", "private_key", "signature_secret")
    HINT_FIELD = "api_secret"


@dataclass(frozen=True, repr=False)
class PlivoAccount(_AccountSecret):
    """A Plivo auth id and auth token (the token also signs webhooks)."""

    auth_id: str
    auth_token: str

    kind = "plivo"
    FIELDS = ("auth_id", "auth_token")
    SECRET_FIELDS = ("auth_token",)
    HINT_FIELD = "auth_token"


@dataclass(frozen=True, repr=False)
class TelnyxAccount(_AccountSecret):
    """A Telnyx API key and the account's public key (base64 Ed25519) for webhooks."""

    api_key: str
    public_key: str = ""

    kind = "telnyx"
    FIELDS = ("api_key", "public_key")
    SECRET_FIELDS = ("api_key",)
    HINT_FIELD = "api_key"


@dataclass(frozen=True, repr=False)
class ExotelAccount(_AccountSecret):
    """An Exotel API key, API token and account SID (the region is `config.region`)."""

    api_key: str
    api_token: str
    account_sid: str

    kind = "exotel"
    FIELDS = ("api_key", "api_token", "account_sid")
    SECRET_FIELDS = ("api_token",)
    HINT_FIELD = "api_token"


AccountSecret = TwilioAccount | VonageAccount | PlivoAccount | TelnyxAccount | ExotelAccount
ACCOUNT_SECRET_CLASSES: tuple[type[AccountSecret], ...] = (
    TwilioAccount,
    VonageAccount,
    PlivoAccount,
    TelnyxAccount,
    ExotelAccount,
)

SecretMaterial = ApiKey | AzureKey | AwsKeys | GcpServiceAccount | AccountSecret


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
    elif isinstance(secret, GcpServiceAccount):
        body = {"json": secret.json_text}
    else:
        body = secret.field_values()
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
    for account_class in ACCOUNT_SECRET_CLASSES:
        if kind == account_class.kind:
            return account_class(**{name: str(data.get(name, "")) for name in account_class.FIELDS})
    raise ValueError("unknown secret kind")


@dataclass(frozen=True)
class ProviderCredential:
    """What a provider adapter receives: everything needed to call the provider once."""

    id: str
    provider: str
    config: CredentialConfig
    secret: SecretMaterial
