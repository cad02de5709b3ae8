"""The vault: a keyring of AES-256 keys and the AEAD envelope that seals secrets at rest.

Nothing outside this package touches key bytes.
"""

from integration_api.vault.envelope import AssociatedData, Envelope
from integration_api.vault.errors import DecryptionError, UnknownKeyError
from integration_api.vault.keyring import Keyring
from integration_api.vault.keys import InvalidKeyError, generate_key, key_id, parse_key

__all__ = [
    "AssociatedData",
    "DecryptionError",
    "Envelope",
    "InvalidKeyError",
    "Keyring",
    "UnknownKeyError",
    "generate_key",
    "key_id",
    "parse_key",
]
