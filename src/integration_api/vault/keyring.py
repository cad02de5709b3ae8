"""A keyring: one primary AES-256 key that encrypts, older keys that only decrypt.

Rotation adds a key as decrypt-only everywhere first, then promotes it to primary, re-encrypts
every stored ciphertext, and retires the old key once none is left under it. Each key is known by
its public key id; ciphertexts name the id, so decryption picks exactly one key.

The keyring keeps no raw key bytes after construction: it holds one AES-GCM primitive per key,
one record-authentication subkey per key and a fingerprinting subkey. It cannot be pickled or
copied, and its `repr` shows key ids only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NoReturn

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from integration_api.vault.errors import UnknownKeyError
from integration_api.vault.keys import key_id, parse_key, require_key_bytes

FINGERPRINT_PREFIX = "fp_"
_FINGERPRINT_LENGTH = 8
_FINGERPRINT_SUBKEY_INFO = b"integration-api/secret-fingerprint/v1"
_RECORD_SUBKEY_INFO = b"integration-api/record-authentication/v1"

PRIMARY_SETTING = "INTEGRATION_CRYPTO_KEY"
DECRYPT_ONLY_SETTING = "INTEGRATION_CRYPTO_KEYS"


class Keyring:
    """The keys this process may use: `primary` encrypts, `decrypt_only` keys only decrypt.

    A decrypt-only key equal to the primary is ignored, so the list of older keys may keep
    naming the current one during a rotation.
    """

    __slots__ = (
        "_aeads",
        "_decrypt_only_key_ids",
        "_fingerprint_key",
        "_primary_key_id",
        "_record_keys",
    )

    def __init__(self, primary: bytes, decrypt_only: Sequence[bytes] = ()) -> None:
        self._primary_key_id = key_id(require_key_bytes(primary, setting="primary key"))
        aeads: dict[str, AESGCM] = {self._primary_key_id: AESGCM(primary)}
        record_keys = {self._primary_key_id: _derive(primary, _RECORD_SUBKEY_INFO)}
        decrypt_only_key_ids: list[str] = []
        for position, key in enumerate(decrypt_only, start=1):
            name = key_id(require_key_bytes(key, setting=f"decrypt-only key #{position}"))
            if name not in aeads:
                aeads[name] = AESGCM(key)
                record_keys[name] = _derive(key, _RECORD_SUBKEY_INFO)
                decrypt_only_key_ids.append(name)
        self._aeads: Mapping[str, AESGCM] = MappingProxyType(aeads)
        self._record_keys: Mapping[str, bytes] = MappingProxyType(record_keys)
        self._decrypt_only_key_ids = tuple(decrypt_only_key_ids)
        self._fingerprint_key = _derive(primary, _FINGERPRINT_SUBKEY_INFO)

    @classmethod
    def from_settings(cls, primary: str, decrypt_only: str = "") -> Keyring:
        """Build from the configured text: one key, and a comma-separated list (may be empty).

        Errors name the setting and the list position, never the value.
        """
        primary_key = parse_key(primary, setting=PRIMARY_SETTING)
        entries = [entry.strip() for entry in decrypt_only.split(",")]
        decrypt_only_keys = [
            parse_key(entry, setting=f"{DECRYPT_ONLY_SETTING} entry #{position}")
            for position, entry in enumerate(entries, start=1)
            if entry
        ]
        return cls(primary_key, decrypt_only_keys)

    @property
    def primary_key_id(self) -> str:
        return self._primary_key_id

    @property
    def decrypt_only_key_ids(self) -> tuple[str, ...]:
        return self._decrypt_only_key_ids

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id held, the primary first."""
        return (self._primary_key_id, *self._decrypt_only_key_ids)

    def has(self, key_id: str) -> bool:
        return key_id in self._aeads

    def primary_aead(self) -> tuple[str, AESGCM]:
        """The primary key's id and primitive: the only pair that ever encrypts."""
        return self._primary_key_id, self._aeads[self._primary_key_id]

    def aead_for(self, key_id: str) -> AESGCM:
        """The primitive of exactly the key named `key_id`; there is no fallback to other keys."""
        aead = self._aeads.get(key_id)
        if aead is None:
            raise UnknownKeyError(key_id)
        return aead

    def secret_fingerprint(self, plaintext: bytes) -> str:
        """A keyed, non-reversible tag of a secret, e.g. `fp_1a2b3c4d5e6f7a8b`.

        Equal secrets give equal fingerprints under the same primary key, so rows holding the
        same provider key can be spotted; without the keyring nobody can test a guessed secret
        against it. Fingerprints change when the primary key changes.
        """
        digest = hmac.new(self._fingerprint_key, plaintext, hashlib.sha256).digest()
        return FINGERPRINT_PREFIX + digest[:_FINGERPRINT_LENGTH].hex()

    def authenticate_record(self, record: bytes) -> tuple[str, bytes]:
        """An HMAC-SHA256 tag of `record` under the primary key's record subkey, with that key's
        id: for data kept where others can write (a shared cache), so that changes show."""
        tag = hmac.new(self._record_keys[self._primary_key_id], record, hashlib.sha256).digest()
        return self._primary_key_id, tag

    def record_is_authentic(self, key_id: str, record: bytes, tag: bytes) -> bool:
        """True when `tag` is `record`'s tag under exactly the key named `key_id`.

        Every key of the ring verifies, so tags made before a promotion stay valid on every
        replica until the old key is retired; a key id the ring lacks never verifies.
        """
        record_key = self._record_keys.get(key_id)
        if record_key is None:
            return False
        expected = hmac.new(record_key, record, hashlib.sha256).digest()
        return hmac.compare_digest(expected, tag)

    def __repr__(self) -> str:
        return (
            f"Keyring(primary_key_id={self._primary_key_id!r}, "
            f"decrypt_only_key_ids={list(self._decrypt_only_key_ids)!r})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # Pickling would write key material to wherever the pickle goes (a cache, a queue).
        raise TypeError("a Keyring cannot be pickled or copied")


def _derive(key: bytes, info: bytes) -> bytes:
    # A separate subkey per purpose keeps fingerprints and record tags independent of the
    # encryption key and of each other.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)
