"""Opaque page tokens for keyset pagination.

A token carries the sort key of the last row of a page and a digest of the query it belongs to
(tenant and filters), followed by a checksum. A token altered in transit, or replayed with other
filters, is rejected as an invalid `page_token`. The checksum is not a signature: someone who
rebuilds a token by hand only moves their own position in a list that stays scoped to their
tenant, so there is nothing to gain by forging one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from integration_api.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAXIMUM_PAGE_SIZE = 500

_CHECKSUM_LENGTH = 8
_CHECKSUM_DOMAIN = b"integration-api/page-token/v1\x00"

Position = list[str | int]


def page_size_or_default(page_size: int) -> int:
    """0 means the default; larger than the maximum is clamped, as AIP-158 recommends."""
    if page_size < 0:
        raise InvalidArgument.for_field("page_size", "must not be negative")
    if page_size == 0:
        return DEFAULT_PAGE_SIZE
    return min(page_size, MAXIMUM_PAGE_SIZE)


def query_scope(*parts: str | None) -> str:
    """A short digest naming one query (its tenant and filters), stored in its tokens."""
    canonical = json.dumps(list(parts), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_page_token(position: Sequence[str | int], scope: str) -> str:
    payload = json.dumps({"p": list(position), "s": scope}, separators=(",", ":")).encode()
    token = payload + _checksum(payload)
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_page_token(token: str, scope: str) -> Position:
    """The position stored in `token`; `InvalidArgument` on `page_token` if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid_page_token() from None
    payload, checksum = raw[:-_CHECKSUM_LENGTH], raw[-_CHECKSUM_LENGTH:]
    if len(raw) <= _CHECKSUM_LENGTH or not hmac.compare_digest(checksum, _checksum(payload)):
        raise invalid_page_token()
    try:
        decoded = json.loads(payload)
    except ValueError:
        raise invalid_page_token() from None
    if not isinstance(decoded, dict) or decoded.get("s") != scope:
        raise InvalidArgument.for_field("page_token", "does not belong to this query")
    position = decoded.get("p")
    if not isinstance(position, list) or not all(isinstance(v, str | int) for v in position):
        raise invalid_page_token()
    return position


def invalid_page_token() -> InvalidArgument:
    return InvalidArgument.for_field("page_token", "is not a page token returned by this service")


def _checksum(payload: bytes) -> bytes:
    return hashlib.sha256(_CHECKSUM_DOMAIN + payload).digest()[:_CHECKSUM_LENGTH]
