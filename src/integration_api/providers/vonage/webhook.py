"""Vonage's signed webhooks: an HS256 JWT in `Authorization: Bearer`, made with the account's
signature secret, whose `payload_hash` claim is the SHA-256 of the payload.

The payload is the raw body of a POST (or its compact JSON form, which Vonage's examples hash),
and for a GET the query's fields as a compact JSON object in their order. A token is refused
once its `exp` has passed or when its `iat` is more than 300 seconds from now (Vonage advises
checking `iat`; tokens carry no other time), and its `jti` is what a replay repeats.

The HS256 check is an HMAC over the token's first two segments, written out here: PyJWT warns
on every HMAC key shorter than 32 bytes, and Vonage's signature secrets may be shorter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from integration_api.credentials.model import SecretMaterial, VonageAccount
from integration_api.telephony.webhooks import (
    UNTIMED_REMEMBER_SECONDS,
    Genuine,
    Rejected,
    Rejection,
    Webhook,
    WebhookCheck,
    utc_from_unix,
)

TOLERANCE_SECONDS = 300
# Clock skew allowed past `exp` (and before `nbf`).
LEEWAY_SECONDS = 30
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class _Malformed(Exception):
    """The token cannot be read."""


def _segment(text: str) -> bytes:
    if not _SEGMENT.fullmatch(text):
        raise _Malformed
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _Malformed from None


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_segment(segment))
    except ValueError:
        raise _Malformed from None
    if not isinstance(value, dict):
        raise _Malformed
    return value


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def payload_hashes(webhook: Webhook) -> list[str]:
    """The hex SHA-256 digests the payload may have been hashed to."""
    if webhook.method == "GET":
        fields = dict(parse_qsl(urlsplit(webhook.url).query, keep_blank_values=True))
        compact = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        return [hashlib.sha256(compact.encode()).hexdigest()]
    digests = [hashlib.sha256(webhook.body).hexdigest()]
    try:
        compact = json.dumps(json.loads(webhook.body), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return digests
    return [*digests, hashlib.sha256(compact.encode()).hexdigest()]


def _has_payload(webhook: Webhook) -> bool:
    return bool(webhook.body) or (webhook.method == "GET" and bool(urlsplit(webhook.url).query))


class VonageWebhooks:
    """`WebhookChecker` for Vonage's signed webhooks."""

    def check(self, webhook: Webhook, secret: SecretMaterial, now: float) -> WebhookCheck:
        if not isinstance(secret, VonageAccount) or not secret.signature_secret:
            return Rejected(
                Rejection.NO_SIGNING_SECRET, "the credential holds no Vonage signature secret"
            )
        authorization = webhook.header("authorization")
        if authorization is None:
            return Rejected(Rejection.MISSING_HEADER, "no Authorization header (a Bearer token)")
        try:
            return self._check_token(webhook, secret.signature_secret, authorization, now)
        except _Malformed:
            return Rejected(
                Rejection.MALFORMED_SIGNATURE, "the Authorization header holds no readable JWT"
            )

    def _check_token(
        self, webhook: Webhook, signature_secret: str, authorization: str, now: float
    ) -> WebhookCheck:
        scheme, _space, token = authorization.partition(" ")
        segments = token.strip().split(".")
        if scheme.lower() != "bearer" or len(segments) != 3:
            raise _Malformed
        header, payload, signature = segments
        if _json_object(header).get("alg") != "HS256":
            return Rejected(
                Rejection.UNSUPPORTED_ALGORITHM, "the token is not HS256, as Vonage signs them"
            )
        expected = hmac.new(
            signature_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256
        ).digest()
        raw_signature = _segment(signature)
        if not hmac.compare_digest(expected, raw_signature):
            return Rejected(
                Rejection.SIGNATURE_MISMATCH, "the token is not signed with the signature secret"
            )
        return _check_claims(webhook, _json_object(payload), raw_signature, now)


def _check_claims(
    webhook: Webhook, claims: dict[str, Any], raw_signature: bytes, now: float
) -> WebhookCheck:
    issued, expires = _number(claims.get("iat")), _number(claims.get("exp"))
    not_before = _number(claims.get("nbf"))
    signed_at = utc_from_unix(issued) if issued is not None else None
    stale = (
        (expires is not None and now > expires + LEEWAY_SECONDS)
        or (not_before is not None and now < not_before - LEEWAY_SECONDS)
        or (issued is not None and abs(now - issued) > TOLERANCE_SECONDS)
    )
    if stale:
        return Rejected(
            Rejection.STALE_TIMESTAMP,
            f"the token has expired or was issued more than {TOLERANCE_SECONDS} s from now",
            signed_at,
        )
    declared = claims.get("payload_hash")
    if isinstance(declared, str):
        offered = declared.strip().lower().encode()
        matches = [
            hmac.compare_digest(digest.encode(), offered) for digest in payload_hashes(webhook)
        ]
        if not any(matches):
            return Rejected(
                Rejection.PAYLOAD_HASH_MISMATCH,
                "the token's payload_hash is not the SHA-256 of the payload received",
                signed_at,
            )
    elif _has_payload(webhook):
        return Rejected(
            Rejection.PAYLOAD_HASH_MISMATCH,
            "the token carries no payload_hash, so it does not cover the payload",
            signed_at,
        )
    token_id = claims.get("jti")
    replay_id = f"vonage-jti:{token_id}" if isinstance(token_id, str) and token_id else ""
    return Genuine(
        replay_id or "vonage-signature:" + raw_signature.hex(),
        _remember_seconds(issued, expires, now),
        signed_at,
    )


def _remember_seconds(issued: float | None, expires: float | None, now: float) -> float:
    """Until the token could no longer pass the time checks (the first of them to close)."""
    ends = []
    if issued is not None:
        ends.append(issued + TOLERANCE_SECONDS)
    if expires is not None:
        ends.append(expires + LEEWAY_SECONDS)
    if not ends:
        return UNTIMED_REMEMBER_SECONDS
    return min(ends) - now + 1


CHECKER = VonageWebhooks()
