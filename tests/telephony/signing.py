"""The providers' side of a webhook: requests signed the way each provider signs them.

Twilio's and Plivo's signatures come from their own SDKs' signing functions; Telnyx's SDK only
verifies, so its Ed25519 signature is made with `cryptography`, and Vonage's HS256 token with
PyJWT, as Vonage's own libraries make it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from integration_api_proto.integration.v1 import ValidateWebhookRequest, WebhookHeader
from plivo.utils.signature_v3 import construct_get_url, construct_post_url, get_signature_v3  # type: ignore[import-untyped]
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from integration_api.telephony.webhooks import Webhook

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class SignedWebhook:
    """One inbound request as the caller's web server received it."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def with_headers(self, **changes: str | None) -> SignedWebhook:
        """The same request with headers set (value) or removed (None); `_` in names is `-`."""
        headers = dict(self.headers)
        for name, value in changes.items():
            header = name.replace("_", "-")
            headers = {key: val for key, val in headers.items() if key.lower() != header.lower()}
            if value is not None:
                headers[header] = value
        return replace(self, headers=headers)

    def header(self, name: str) -> str:
        return next(value for key, value in self.headers.items() if key.lower() == name.lower())

    def domain(self) -> Webhook:
        lowered = {name.lower(): value for name, value in self.headers.items()}
        return Webhook(self.method, self.url, lowered, self.body)

    def request(self, credential_id: str) -> ValidateWebhookRequest:
        return ValidateWebhookRequest(
            credential_id=credential_id,
            method=self.method,
            url=self.url,
            headers=[WebhookHeader(name=n, value=v) for n, v in self.headers.items()],
            body=self.body,
        )


def form(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode()


def form_dict(fields: list[tuple[str, str]]) -> dict[str, Any]:
    """Fields as the SDK validators take them: one value a name, or a list of several."""
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


# Twilio


def twilio_form(token: str, url: str, fields: list[tuple[str, str]]) -> SignedWebhook:
    """A form POST, signed over `url` exactly as given."""
    signature = RequestValidator(token).compute_signature(url, twilio_params(fields))
    headers = {"X-Twilio-Signature": signature, "Content-Type": FORM}
    return SignedWebhook("POST", url, headers, form(fields))


def twilio_params(fields: list[tuple[str, str]]) -> Any:
    """The fields as the SDK reads a framework's multi-dict (`getlist`)."""

    class MultiDict(dict[str, list[str]]):
        def getlist(self, name: str) -> list[str]:
            return self[name]

    grouped = MultiDict()
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    return grouped


def twilio_json(token: str, url: str, body: bytes) -> SignedWebhook:
    """A JSON POST: the body's hash in the URL's `bodySHA256`, the URL alone signed."""
    validator = RequestValidator(token)
    separator = "&" if "?" in url else "?"
    signed_url = f"{url}{separator}bodySHA256={validator.compute_hash(body.decode())}"
    signature = validator.compute_signature(signed_url, {})
    headers = {"X-Twilio-Signature": signature, "Content-Type": JSON}
    return SignedWebhook("POST", signed_url, headers, body)


def twilio_get(token: str, url: str) -> SignedWebhook:
    signature = RequestValidator(token).compute_signature(url, {})
    return SignedWebhook("GET", url, {"X-Twilio-Signature": signature})


# Plivo


def plivo_signature(token: str, method: str, url: str, params: dict[str, Any], nonce: str) -> str:
    base = construct_get_url(url, {}) if method == "GET" else construct_post_url(url, params)
    signed: bytes = get_signature_v3(token.encode(), base.decode(), nonce.encode())
    return signed.decode()


def plivo_webhook(
    token: str,
    method: str,
    url: str,
    fields: list[tuple[str, str]] | None = None,
    other_tokens: tuple[str, ...] = (),
) -> SignedWebhook:
    """A Plivo V3 callback; `other_tokens` sign it too (several keys, comma-separated)."""
    nonce = str(secrets.randbelow(10**20))
    params = form_dict(fields or [])
    signatures = [plivo_signature(t, method, url, params, nonce) for t in (*other_tokens, token)]
    headers = {"X-Plivo-Signature-V3": ",".join(signatures), "X-Plivo-Signature-V3-Nonce": nonce}
    if method == "GET":
        return SignedWebhook("GET", url, headers)
    headers["Content-Type"] = FORM
    return SignedWebhook("POST", url, headers, form(fields or []))


# Telnyx


@dataclass(frozen=True)
class TelnyxKeys:
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> TelnyxKeys:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_base64(self) -> str:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def sign(self, body: bytes, timestamp: int | None = None) -> SignedWebhook:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self.private.sign(stamp.encode() + b"|" + body)
        headers = {
            "Content-Type": JSON,
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": stamp,
        }
        return SignedWebhook("POST", "https://hooks.example.com/telnyx", headers, body)


# Vonage


def vonage_token(secret: str, payload: bytes | str, **claims: Any) -> str:
    """An HS256 token as Vonage signs webhooks: api_key, iat, jti and the payload's hash."""
    hashed = payload if isinstance(payload, bytes) else payload.encode()
    body: dict[str, Any] = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "api_key": "abcd1234",
        "application_id": str(uuid.uuid4()),
        "payload_hash": hashlib.sha256(hashed).hexdigest(),
    }
    body.update(claims)
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, secret, algorithm="HS256")


def vonage_post(secret: str, body: bytes, **claims: Any) -> SignedWebhook:
    token = vonage_token(secret, body, **claims)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": JSON}
    return SignedWebhook("POST", "https://hooks.example.com/vonage/event", headers, body)


def vonage_get(secret: str, fields: list[tuple[str, str]], **claims: Any) -> SignedWebhook:
    payload = json.dumps(dict(fields), separators=(",", ":"))
    token = vonage_token(secret, payload, **claims)
    url = "https://hooks.example.com/vonage/answer?" + urlencode(fields)
    return SignedWebhook("GET", url, {"Authorization": f"Bearer {token}"})
