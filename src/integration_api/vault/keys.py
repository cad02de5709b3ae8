"""AES-256 key material: parsing it from configuration, generating it, naming it.

A key is 32 random bytes. Operators write it as base64 (standard or URL-safe alphabet, with or
without padding) or as 64 hexadecimal characters. Nothing here ever puts the configured text
into an error message: a half-pasted key in a log line is still a leaked key.

A key id is a public name for a key, stored in every ciphertext, logged and compared at
start-up. It is an HMAC of a fixed label under the key rather than a hash of the key, so it is
domain-separated from any other digest of the same bytes and reveals nothing about them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

KEY_LENGTH = 32
KEY_ID_LENGTH = 8
KEY_ID_PREFIX = "k"

_KEY_ID_LABEL = b"integration-api/key-id/v1"
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_BASE64_KEY = re.compile(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9\-_]+={0,2}")

ACCEPTED_FORMS = (
    "a 32-byte key written as base64 (standard or URL-safe alphabet, padded or not) "
    "or as 64 hexadecimal characters"
)


class InvalidKeyError(ValueError):
    """Configured key text is not a 32-byte key in an accepted form; never carries the text."""


def parse_key(text: str, *, setting: str = "crypto key") -> bytes:
    """Decode configured key text to its 32 bytes, or raise `InvalidKeyError`.

    `setting` names where the text came from (an environment variable, a list position) so that
    the operator knows which value to fix without the value itself being shown.
    """
    candidate = text.strip()
    decoded = _decode_hex(candidate) if _HEX_KEY.fullmatch(candidate) else _decode_base64(candidate)
    if decoded is None or len(decoded) != KEY_LENGTH:
        raise InvalidKeyError(f"{setting} must be {ACCEPTED_FORMS}")
    return decoded


# 32 random bytes take about 30 distinct values and are almost never all printable text (odds
# below 1e-13 for either): a key failing these was typed or derived from a password.
MIN_DISTINCT_KEY_BYTES = 16


def require_random_looking(key: bytes, *, setting: str = "crypto key") -> None:
    """Refuse key material that cannot have come from a random generator; never shows it."""
    advice = "generate one with `integration-api keys generate`"
    if len(set(key)) < MIN_DISTINCT_KEY_BYTES:
        raise InvalidKeyError(
            f"{setting} has fewer than {MIN_DISTINCT_KEY_BYTES} distinct bytes, so it is not "
            f"random; {advice}"
        )
    if all(32 <= byte < 127 for byte in key):
        raise InvalidKeyError(f"{setting} decodes to plain text, not random bytes; {advice}")


def generate_key() -> str:
    """A fresh random key, written as standard padded base64 (the form `parse_key` prefers)."""
    return base64.b64encode(secrets.token_bytes(KEY_LENGTH)).decode("ascii")


def require_key_bytes(key: bytes, *, setting: str = "crypto key") -> bytes:
    """Check that raw key material has the one length AES-256 accepts."""
    if not isinstance(key, bytes) or len(key) != KEY_LENGTH:
        raise InvalidKeyError(f"{setting} must be exactly {KEY_LENGTH} bytes")
    return key


def key_id_bytes(key: bytes) -> bytes:
    """The 8-byte public identifier of `key`, as stored in ciphertext headers."""
    digest = hmac.new(require_key_bytes(key), _KEY_ID_LABEL, hashlib.sha256).digest()
    return digest[:KEY_ID_LENGTH]


def format_key_id(raw_key_id: bytes) -> str:
    """Text form of a stored key id, e.g. `k3f9a0c1d2e4b5a69`."""
    return KEY_ID_PREFIX + raw_key_id.hex()


def key_id_to_bytes(text: str) -> bytes:
    """The stored 8-byte form of a key id given as text; `ValueError` if it is not one."""
    if len(text) != 1 + 2 * KEY_ID_LENGTH or not text.startswith(KEY_ID_PREFIX):
        raise ValueError("a key id is 'k' followed by 16 hexadecimal characters")
    return bytes.fromhex(text[1:])


def key_id(key: bytes) -> str:
    """The public name of `key`: safe to log, store and show to operators."""
    return format_key_id(key_id_bytes(key))


def _decode_hex(candidate: str) -> bytes:
    return bytes.fromhex(candidate)


def _decode_base64(candidate: str) -> bytes | None:
    if not _BASE64_KEY.fullmatch(candidate):
        return None
    if "=" in candidate and len(candidate) % 4 != 0:
        return None
    unpadded = candidate.rstrip("=")
    standard = unpadded.replace("-", "+").replace("_", "/")
    padded = standard + "=" * (-len(standard) % 4)
    try:
        decoded = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Unused low bits in the last character make several spellings of one key; accept only the
    # canonical one so that a key compared as text and as bytes agrees.
    if base64.b64encode(decoded).decode("ascii").rstrip("=") != standard:
        return None
    return decoded
