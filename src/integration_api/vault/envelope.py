"""AES-256-GCM envelope for secrets at rest, bound to the row that stores them.

Format v1, all fields fixed-size except the last::

    offset  size  field
    0       3     magic            b"IAV"
    3       1     format version   0x01
    4       8     key id           HMAC-derived public id of the key (see `keys.key_id`)
    12      12    nonce            96 random bits, fresh for every encryption
    24      n+16  ciphertext+tag   AES-256-GCM output for an n-byte plaintext, 128-bit tag

The GCM associated data is the 12-byte header (magic, version, key id) followed by the canonical
encoding of `AssociatedData`, so changing the header or moving the ciphertext to another
organization, project, credential or provider makes decryption fail.

Decryption reads the key id and uses that key only; it never tries keys in turn (AES-GCM does
not commit to its key, and trial decryption would hide which key a row needs). Nonces are
random: a key must be rotated long before 2**32 encryptions (NIST SP 800-38D).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from integration_api.vault.errors import DecryptionError
from integration_api.vault.keyring import Keyring
from integration_api.vault.keys import KEY_ID_LENGTH, format_key_id, key_id_to_bytes

MAGIC = b"IAV"
FORMAT_VERSION = 1
NONCE_LENGTH = 12
TAG_LENGTH = 16
HEADER_LENGTH = len(MAGIC) + 1 + KEY_ID_LENGTH
MINIMUM_LENGTH = HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH

_PREFIX = MAGIC + bytes([FORMAT_VERSION])
_ASSOCIATED_DATA_VERSION = 1
_FIELD_LENGTH = struct.Struct(">I")


@dataclass(frozen=True)
class AssociatedData:
    """Where a ciphertext lives; authenticated with it, never encrypted or stored inside it.

    `project_id` may be empty for organization-wide credentials; the other fields may not.
    """

    organization_id: str
    project_id: str
    credential_id: str
    provider: str

    def __post_init__(self) -> None:
        for name in ("organization_id", "credential_id", "provider"):
            if not getattr(self, name):
                raise ValueError(f"associated data field {name} must not be empty")
        self.encode()

    def encode(self) -> bytes:
        """Canonical bytes: a version byte, then each field as 4-byte length + UTF-8.

        Length prefixes make every distinct tuple of fields encode differently, whatever
        characters the ids contain.
        """
        fields = (self.organization_id, self.project_id, self.credential_id, self.provider)
        parts = [bytes([_ASSOCIATED_DATA_VERSION])]
        for value in fields:
            encoded = value.encode("utf-8")
            parts.append(_FIELD_LENGTH.pack(len(encoded)))
            parts.append(encoded)
        return b"".join(parts)


@dataclass(frozen=True)
class _ParsedCiphertext:
    header: bytes
    key_id: str
    nonce: bytes
    sealed: bytes


class Envelope:
    """Encrypts under the keyring's primary key; decrypts with whichever key a ciphertext names."""

    __slots__ = ("_keyring", "_on_encrypt")

    def __init__(self, keyring: Keyring, on_encrypt: Callable[[str], None] | None = None) -> None:
        """`on_encrypt(key_id)` runs after every encryption: random 96-bit nonces are safe for
        far fewer than 2**32 encryptions under one key, so operators count them per key."""
        self._keyring = keyring
        self._on_encrypt = on_encrypt

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    def encrypt(self, plaintext: bytes, aad: AssociatedData) -> bytes:
        _require_associated_data(aad)
        key_id, aead = self._keyring.primary_aead()
        header = _PREFIX + key_id_to_bytes(key_id)
        nonce = os.urandom(NONCE_LENGTH)
        sealed = aead.encrypt(nonce, plaintext, header + aad.encode())
        if self._on_encrypt is not None:
            self._on_encrypt(key_id)
        return header + nonce + sealed

    def decrypt(self, ciphertext: bytes, aad: AssociatedData) -> bytes:
        """The plaintext, or `DecryptionError` (`UnknownKeyError` if the key id is not held)."""
        _require_associated_data(aad)
        parsed = _parse(ciphertext)
        aead = self._keyring.aead_for(parsed.key_id)
        try:
            return aead.decrypt(parsed.nonce, parsed.sealed, parsed.header + aad.encode())
        except InvalidTag:
            raise DecryptionError() from None

    def rewrap(self, ciphertext: bytes, aad: AssociatedData) -> bytes:
        """Re-encrypt under the primary key; always returns a fresh ciphertext."""
        return self.encrypt(self.decrypt(ciphertext, aad), aad)

    def key_id_of(self, ciphertext: bytes) -> str:
        """The key id a ciphertext names, read from the header without decrypting."""
        return _parse(ciphertext).key_id

    def needs_rewrap(self, ciphertext: bytes) -> bool:
        """True when the ciphertext is under a key other than the current primary."""
        return self.key_id_of(ciphertext) != self._keyring.primary_key_id


def _require_associated_data(aad: AssociatedData) -> None:
    # Callers holding raw bytes must not be able to pass them off as a row binding.
    if not isinstance(aad, AssociatedData):
        raise TypeError("aad must be an AssociatedData")


def _parse(ciphertext: bytes) -> _ParsedCiphertext:
    if not isinstance(ciphertext, bytes) or len(ciphertext) < MINIMUM_LENGTH:
        raise DecryptionError()
    if not ciphertext.startswith(_PREFIX):
        raise DecryptionError()
    nonce_start = HEADER_LENGTH
    sealed_start = nonce_start + NONCE_LENGTH
    return _ParsedCiphertext(
        header=ciphertext[:HEADER_LENGTH],
        key_id=format_key_id(ciphertext[len(_PREFIX) : HEADER_LENGTH]),
        nonce=ciphertext[nonce_start:sealed_start],
        sealed=ciphertext[sealed_start:],
    )
