"""Telnyx's Ed25519 webhook signature, checked with the account's public key.

`telnyx-signature-ed25519` is the base64 signature of `"<telnyx-timestamp>|<raw body>"`; a
timestamp more than 300 seconds from now is refused, as Telnyx's own libraries refuse it. The
signature is checked before the time, so `stale_timestamp` always concerns a genuine webhook.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from integration_api.credentials.model import SecretMaterial, TelnyxAccount
from integration_api.telephony.webhooks import (
    Genuine,
    Rejected,
    Rejection,
    Webhook,
    WebhookCheck,
    utc_from_unix,
)

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
TOLERANCE_SECONDS = 300
_KEY_BYTES = 32
_SIGNATURE_BYTES = 64
# ASCII digits only (`str.isdigit` also admits digits `int` refuses, like "²"), and few enough
# that `int` converts them (it refuses more than 4300) and the time is a date.
_UNIX_SECONDS = re.compile(r"[0-9]{1,18}")


@functools.lru_cache(maxsize=256)
def _public_key(encoded: str) -> Ed25519PublicKey | None:
    """The account's public key (a credential's is parsed once, not per webhook)."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != _KEY_BYTES:
        return None
    return Ed25519PublicKey.from_public_bytes(raw)


class TelnyxWebhooks:
    """`WebhookChecker` for Telnyx."""

    def check(self, webhook: Webhook, secret: SecretMaterial, now: float) -> WebhookCheck:
        if not isinstance(secret, TelnyxAccount) or not secret.public_key:
            return Rejected(
                Rejection.NO_SIGNING_SECRET, "the credential holds no Telnyx public key"
            )
        key = _public_key(secret.public_key)
        if key is None:
            return Rejected(
                Rejection.NO_SIGNING_SECRET,
                "the credential's Telnyx public key is not a base64 Ed25519 key",
            )
        encoded, timestamp = webhook.header(SIGNATURE_HEADER), webhook.header(TIMESTAMP_HEADER)
        if encoded is None or timestamp is None:
            missing = "telnyx-signature-ed25519" if encoded is None else "telnyx-timestamp"
            return Rejected(Rejection.MISSING_HEADER, f"no {missing} header")
        raw_signature = _signature_bytes(encoded)
        if raw_signature is None or not _UNIX_SECONDS.fullmatch(timestamp):
            return Rejected(
                Rejection.MALFORMED_SIGNATURE,
                "telnyx-signature-ed25519 must be a base64 Ed25519 signature and "
                "telnyx-timestamp Unix seconds",
            )
        signed_at = utc_from_unix(int(timestamp))
        try:
            key.verify(raw_signature, timestamp.encode() + b"|" + webhook.body)
        except InvalidSignature:
            return Rejected(
                Rejection.SIGNATURE_MISMATCH,
                "telnyx-signature-ed25519 does not match the timestamp and body",
                signed_at,
            )
        age = now - int(timestamp)
        if abs(age) > TOLERANCE_SECONDS:
            return Rejected(
                Rejection.STALE_TIMESTAMP,
                f"signed {round(age)} s from now; Telnyx webhooks are accepted within "
                f"{TOLERANCE_SECONDS} s",
                signed_at,
            )
        # A repetition passes the time check until the window closes on its timestamp. The
        # signature is remembered by its bytes: base64 has several spellings of the same bytes.
        replay_id = "telnyx:" + raw_signature.hex()
        return Genuine(replay_id, TOLERANCE_SECONDS - age + 1, signed_at)


def _signature_bytes(encoded: str) -> bytes | None:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == _SIGNATURE_BYTES else None


CHECKER = TelnyxWebhooks()
