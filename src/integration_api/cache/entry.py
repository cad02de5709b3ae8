"""Authenticated entries for a cache that others can write to (Redis).

Whoever can write to Redis must not be able to change what a cached row says: turn a disabled
credential active, point its `base_url` at their own server, or swap in another credential's
row. Every entry therefore carries an HMAC-SHA256 tag over all of it, under a subkey of the
vault's keyring (not SECRET, which signs tokens), named by key id so that replicas sharing the
keyring verify each other's entries and a key promotion does not invalidate them::

    v1.<key id>.<tag, base64url>.<payload: JSON of the row, written_at, expires_at>

The payload also carries the writer's wall-clock time and the entry's expiry, both under the
tag: a replayed old entry is refused once it expires, and earlier than that by any replica
that has seen the credential change since (see `RedisCredentialCache`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from integration_api.cache.rows import row_from_json, row_to_json
from integration_api.store.models import CredentialRow
from integration_api.vault import Keyring

FORMAT = b"v1"
# Domain separation: the record subkey may one day tag other kinds of record.
_CONTEXT = b"integration-api/credential-cache-entry/v1\n"


class UntrustedEntry(ValueError):
    """An entry that does not verify; the message never quotes the entry."""


@dataclass(frozen=True)
class OpenedEntry:
    row: CredentialRow
    written_at: float


def seal_entry(keyring: Keyring, row: CredentialRow, *, now: float, ttl: float) -> bytes:
    payload = json.dumps(
        {"row": row_to_json(row), "written_at": now, "expires_at": now + ttl},
        separators=(",", ":"),
    ).encode()
    key_id, tag = keyring.authenticate_record(_CONTEXT + payload)
    encoded_tag = base64.urlsafe_b64encode(tag).rstrip(b"=")
    return b".".join((FORMAT, key_id.encode(), encoded_tag, payload))


def open_entry(keyring: Keyring, raw: bytes, credential_id: str, *, now: float) -> OpenedEntry:
    """The entry's row, if its tag verifies, it is the row asked for and it has not expired."""
    parts = raw.split(b".", 3)
    if len(parts) != 4 or parts[0] != FORMAT:
        raise UntrustedEntry("the entry is not in a known format")
    _format, key_id, encoded_tag, payload = parts
    tag = _decode_tag(encoded_tag)
    if not keyring.record_is_authentic(key_id.decode("ascii", "replace"), _CONTEXT + payload, tag):
        raise UntrustedEntry("the entry's tag does not verify")
    # Authentic from here on: written by a replica holding the keyring.
    data: dict[str, Any] = json.loads(payload)
    row = row_from_json(data["row"])
    if row.id != credential_id:
        raise UntrustedEntry("the entry holds another credential's row")
    if now >= float(data["expires_at"]):
        raise UntrustedEntry("the entry outlived its expiry")
    return OpenedEntry(row=row, written_at=float(data["written_at"]))


def _decode_tag(encoded: bytes) -> bytes:
    try:
        return base64.urlsafe_b64decode(encoded + b"=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise UntrustedEntry("the entry's tag is malformed") from None
