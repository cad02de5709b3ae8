"""Plivo's V3 signature: `X-Plivo-Signature-V3` with `X-Plivo-Signature-V3-Nonce`.

Signed, with HMAC-SHA256 under the auth token, is the callback URL in a canonical form, then
"." and the nonce. The canonical URL keeps scheme, host and path, with the query's `name=value`
pairs sorted; for a POST the body's fields follow, sorted, as name and value run together (a
POST with fields always has the "?", and a "." separates the query from them). The header may
carry several signatures, comma-separated (one per key that signed it); one matching is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import parse_qs, urlparse, urlunparse

from integration_api.credentials.model import PlivoAccount, SecretMaterial
from integration_api.telephony.webhooks import (
    UNTIMED_REMEMBER_SECONDS,
    Genuine,
    Rejected,
    Rejection,
    Webhook,
    WebhookCheck,
    form_fields,
)

SIGNATURE_HEADER = "x-plivo-signature-v3"
NONCE_HEADER = "x-plivo-signature-v3-nonce"
FORM = "application/x-www-form-urlencoded"
_SHA256_BYTES = 32


def _text(value: object) -> str:
    """A value as Plivo's canonical form writes it (Python's `str` of a JSON scalar)."""
    return value if isinstance(value, str) else str(value)


def _sorted_query(fields: Mapping[str, list[str]]) -> str:
    return "&".join(
        "&".join(f"{name}={value}" for value in sorted(fields[name])) for name in sorted(fields)
    )


def _sorted_fields(fields: Mapping[str, object]) -> str:
    """The body's fields run together, names sorted (a list's values sorted, an object's
    fields in turn)."""
    parts = []
    for name in sorted(fields):
        value = fields[name]
        if isinstance(value, list):
            parts.append("".join(f"{name}{_text(item)}" for item in sorted(map(_text, value))))
        elif isinstance(value, dict):
            parts.append(f"{name}{_sorted_fields(value)}")
        else:
            parts.append(f"{name}{_text(value)}")
    return "".join(parts)


def canonical_url(method: str, url: str, fields: Mapping[str, object]) -> str:
    """The URL as Plivo signs it, for a GET or a POST with these body fields."""
    parts = urlparse(url)
    base = urlunparse((parts.scheme, parts.netloc, parts.path, "", "", ""))
    query = _sorted_query(parse_qs(parts.query, keep_blank_values=True))
    if method == "GET" or not fields:
        return f"{base}?{query}" if query else base
    return (
        f"{base}?{query}.{_sorted_fields(fields)}" if query else f"{base}?{_sorted_fields(fields)}"
    )


def signature(auth_token: str, canonical: str, nonce: str) -> bytes:
    text = f"{canonical}.{nonce}".encode()
    return base64.b64encode(hmac.new(auth_token.encode(), text, hashlib.sha256).digest())


class PlivoWebhooks:
    """`WebhookChecker` for Plivo's V3 signatures."""

    def check(self, webhook: Webhook, secret: SecretMaterial, now: float) -> WebhookCheck:
        if not isinstance(secret, PlivoAccount) or not secret.auth_token:
            return Rejected(Rejection.NO_SIGNING_SECRET, "the credential holds no Plivo auth token")
        header, nonce = webhook.header(SIGNATURE_HEADER), webhook.header(NONCE_HEADER)
        if header is None or nonce is None:
            missing = "X-Plivo-Signature-V3" if header is None else "X-Plivo-Signature-V3-Nonce"
            return Rejected(Rejection.MISSING_HEADER, f"no {missing} header")
        offered = [value.strip() for value in header.split(",") if _is_sha256_signature(value)]
        if not offered:
            return Rejected(
                Rejection.MALFORMED_SIGNATURE, "X-Plivo-Signature-V3 holds no base64 HMAC-SHA256"
            )
        fields = _body_fields(webhook)
        if fields is None:
            return Rejected(
                Rejection.SIGNATURE_MISMATCH,
                "the body is not a form (UTF-8, as many fields as a provider sends) or a JSON "
                "object",
            )
        try:
            canonical = canonical_url(webhook.method, webhook.url, fields)
        except RecursionError:  # nested fields are written out recursively
            return Rejected(Rejection.SIGNATURE_MISMATCH, "the body is nested too deeply")
        expected = signature(secret.auth_token, canonical, nonce)
        # Every offered value is compared, so the time taken does not say which one matched.
        matches = [hmac.compare_digest(expected, value.encode()) for value in offered]
        if not any(matches):
            return Rejected(
                Rejection.SIGNATURE_MISMATCH,
                "no X-Plivo-Signature-V3 value matches this URL, body and nonce under the token",
            )
        return Genuine("plivo-nonce:" + nonce, UNTIMED_REMEMBER_SECONDS)


def _body_fields(webhook: Webhook) -> Mapping[str, object] | None:
    """The POST body's fields (a form's, or a JSON object's); empty for a GET or no body."""
    if webhook.method != "POST" or not webhook.body:
        return {}
    if webhook.content_type() == FORM:
        return form_fields(webhook.body)
    try:
        value = json.loads(webhook.body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    return value if isinstance(value, dict) else None


def _is_sha256_signature(value: str) -> bool:
    try:
        return len(base64.b64decode(value.strip(), validate=True)) == _SHA256_BYTES
    except (binascii.Error, ValueError):
        return False


CHECKER = PlivoWebhooks()
