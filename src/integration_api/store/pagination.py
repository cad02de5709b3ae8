"""Opaque page tokens for keyset pagination, authenticated with a key and bounded.

A token carries the sort key of the last row of a page and a digest of the query it belongs to
(tenant and filters), under an HMAC-SHA256 tag made with the keyring's record subkey (the one
that authenticates shared cache entries, with its own domain prefix), named by key id so that
every replica sharing the keyring accepts it and a key promotion does not break a listing::

    <key id>.<tag, base64url>.<payload, base64url: JSON {"p": position, "s": query digest}>

Nobody without the keyring can make a token: a forged or altered one, or one replayed with other
filters, is refused as an invalid `page_token` before anything reaches the database. Even an
authentic token's values are checked against the shapes this service writes (integers within
PostgreSQL's bigint, short strings, timestamps with a zone, UUIDs), so a token never turns into
an INTERNAL from the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from integration_api.errors import InvalidArgument
from integration_api.vault import Keyring

DEFAULT_PAGE_SIZE = 50
MAXIMUM_PAGE_SIZE = 500

# The longest token this service writes is about 500 characters (a position of 64 characters of
# four UTF-8 bytes each).
MAX_TOKEN_LENGTH = 1024
MAX_POSITION_VALUES = 4
MAX_POSITION_TEXT = 64
# A position number is a bigint row id.
MAX_POSITION_NUMBER = 2**63 - 1
_CONTEXT = b"integration-api/page-token/v2\n"

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


class PageTokens:
    """Makes and opens the page tokens of every listing, under the keyring's record subkey."""

    __slots__ = ("_keyring",)

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def encode(self, position: Sequence[str | int], scope: str) -> str:
        # UTF-8 rather than JSON's \u escapes: a position of 64 characters outside the BMP (a
        # route named with emoji) would otherwise take 768 bytes and its token more than
        # MAX_TOKEN_LENGTH, so the listing could never page past it.
        payload = json.dumps(
            {"p": list(position), "s": scope}, separators=(",", ":"), ensure_ascii=False
        ).encode()
        key_id, tag = self._keyring.authenticate_record(_CONTEXT + payload)
        return ".".join((key_id, _b64encode(tag), _b64encode(payload)))

    def decode(self, token: str, scope: str) -> Position:
        """The position stored in `token`; `InvalidArgument` on `page_token` if it is not ours."""
        parts = token.split(".") if len(token) <= MAX_TOKEN_LENGTH else []
        if len(parts) != 3:
            raise invalid_page_token()
        key_id, tag, payload = parts[0], _b64decode(parts[1]), _b64decode(parts[2])
        if not self._keyring.record_is_authentic(key_id, _CONTEXT + payload, tag):
            raise invalid_page_token()
        try:
            decoded = json.loads(payload)
        except ValueError:
            raise invalid_page_token() from None
        if not isinstance(decoded, dict) or decoded.get("s") != scope:
            raise InvalidArgument.for_field("page_token", "does not belong to this query")
        return _bounded_position(decoded.get("p"))


def _bounded_position(position: object) -> Position:
    if not isinstance(position, list) or not 0 < len(position) <= MAX_POSITION_VALUES:
        raise invalid_page_token()
    for value in position:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise invalid_page_token()
        if isinstance(value, int) and not 0 <= value <= MAX_POSITION_NUMBER:
            raise invalid_page_token()
        if isinstance(value, str) and len(value) > MAX_POSITION_TEXT:
            raise invalid_page_token()
    return position


def keyset_after(position: Position) -> tuple[datetime, uuid.UUID]:
    """A (creation time, id) position, as credential and connection listings write it."""
    if len(position) != 2 or not all(isinstance(value, str) for value in position):
        raise invalid_page_token()
    try:
        created_at = datetime.fromisoformat(str(position[0]))
        row_id = uuid.UUID(str(position[1]))
    except ValueError:
        raise invalid_page_token() from None
    if created_at.tzinfo is None:
        raise invalid_page_token()
    return created_at, row_id


def id_before(position: Position) -> int:
    """A row-id position, as audit listings write it."""
    if len(position) != 1 or not isinstance(position[0], int) or position[0] < 1:
        raise invalid_page_token()
    return position[0]


def invalid_page_token() -> InvalidArgument:
    return InvalidArgument.for_field("page_token", "is not a page token returned by this service")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise invalid_page_token() from None
