"""Twilio's `X-Twilio-Signature`: HMAC-SHA1 with the account's auth token.

Signed: the full URL Twilio called, then each POST field's name and value, names sorted (a
name's values sorted too). A body that is not a form (JSON) is signed through the URL: Twilio
adds `bodySHA256` (the body's hex SHA-256) to its query. Twilio's back ends do not agree on
the default port, so the URL is tried with it and without it, as Twilio's own validator does.
Webhooks signed with a SharedKey (`X-Twilio-Webhooks-Signature-Settings`) use a secret other
than the auth token, which a credential does not hold.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit, urlunsplit

from integration_api.credentials.model import SecretMaterial, TwilioAccount
from integration_api.telephony.webhooks import (
    UNTIMED_REMEMBER_SECONDS,
    Genuine,
    Rejected,
    Rejection,
    Webhook,
    WebhookCheck,
    form_fields,
)

SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
FORM = "application/x-www-form-urlencoded"
BODY_HASH_PARAMETER = "bodySHA256"
_SHA1_BYTES = 20
_DEFAULT_PORTS = {"https": 443, "http": 80}


def url_variants(url: str) -> tuple[str, str]:
    """The URL without its port and with the scheme's default port (Twilio signs either)."""
    parts = urlsplit(url)
    if parts.port is not None:
        without = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
        return urlunsplit(without), url
    with_port = parts._replace(netloc=f"{parts.netloc}:{_DEFAULT_PORTS.get(parts.scheme, 80)}")
    return url, urlunsplit(with_port)


def signed_text(url: str, fields: dict[str, list[str]]) -> str:
    """What Twilio signs: the URL, then each name with each of its values, both sorted."""
    return url + "".join(
        name + value for name in sorted(fields) for value in sorted(set(fields[name]))
    )


class TwilioWebhooks:
    """`WebhookChecker` for Twilio."""

    def check(self, webhook: Webhook, secret: SecretMaterial, now: float) -> WebhookCheck:
        if not isinstance(secret, TwilioAccount) or not secret.auth_token:
            return Rejected(
                Rejection.NO_SIGNING_SECRET,
                "Twilio signs webhooks with the account's auth token, which this credential "
                "does not hold (an API key cannot check them)",
            )
        settings = webhook.header(SETTINGS_HEADER)
        # An empty settings header names no key: the auth token signed it, as Twilio's own
        # validator reads it.
        if settings:
            return _shared_key_rejection(settings)
        signature = webhook.header(SIGNATURE_HEADER)
        if signature is None:
            return Rejected(Rejection.MISSING_HEADER, "no X-Twilio-Signature header")
        if not _is_sha1_signature(signature):
            return Rejected(
                Rejection.MALFORMED_SIGNATURE, "X-Twilio-Signature is not a base64 HMAC-SHA1"
            )
        signed = _signed_fields(webhook)
        if isinstance(signed, Rejected):
            return signed
        fields, body_hash_matches = signed
        key = secret.auth_token.encode()
        matches = [
            hmac.compare_digest(_sign(key, signed_text(variant, fields)), signature.encode())
            for variant in url_variants(webhook.url)
        ]
        if not any(matches):
            return Rejected(
                Rejection.SIGNATURE_MISMATCH,
                "X-Twilio-Signature does not match this URL and body under the auth token",
            )
        if not body_hash_matches:
            return Rejected(
                Rejection.PAYLOAD_HASH_MISMATCH,
                "the URL's bodySHA256 is not the SHA-256 of the body received",
            )
        return Genuine("twilio:" + signature, UNTIMED_REMEMBER_SECONDS)


def _signed_fields(webhook: Webhook) -> tuple[dict[str, list[str]], bool] | Rejected:
    """The POST fields Twilio signed, and whether the body matches the URL's bodySHA256 (true
    when the body is a form, whose fields are signed themselves)."""
    if webhook.method == "POST" and webhook.content_type() == FORM:
        fields = form_fields(webhook.body)
        if fields is None:
            return Rejected(
                Rejection.SIGNATURE_MISMATCH,
                "the form body is not UTF-8 or holds more fields than a provider sends",
            )
        return fields, True
    declared = parse_qs(urlsplit(webhook.url).query).get(BODY_HASH_PARAMETER)
    if declared:
        actual = hashlib.sha256(webhook.body).hexdigest()
        return {}, hmac.compare_digest(actual.encode(), declared[0].strip().lower().encode())
    if webhook.body:
        return Rejected(
            Rejection.SIGNATURE_MISMATCH,
            "the body is not a form and the URL carries no bodySHA256: the signature does not "
            "cover it",
        )
    return {}, True


def _shared_key_rejection(settings: str) -> Rejected:
    algorithm = ""
    for part in settings.split(","):
        name, _separator, value = part.partition("=")
        if name.strip() == "algorithm":
            algorithm = value.strip().upper()
    if algorithm and algorithm not in ("HMAC_SHA1", "HMAC_SHA256"):
        return Rejected(
            Rejection.UNSUPPORTED_ALGORITHM,
            "X-Twilio-Webhooks-Signature-Settings names an algorithm Twilio's validator refuses",
        )
    return Rejected(
        Rejection.NO_SIGNING_SECRET,
        "the webhook is signed with a Twilio SharedKey, not the auth token this credential holds",
    )


def _is_sha1_signature(signature: str) -> bool:
    try:
        return len(base64.b64decode(signature, validate=True)) == _SHA1_BYTES
    except (binascii.Error, ValueError):
        return False


def _sign(key: bytes, text: str) -> bytes:
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha1).digest())


CHECKER = TwilioWebhooks()
