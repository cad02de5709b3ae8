"""The vault's one failure on the read path.

Every reason a ciphertext does not decrypt (unknown key id, tampering, associated data of another
row, truncation, a header that is not ours) raises `DecryptionError` with the same message, so no
caller and no log line can tell an attacker which guess came closer. The one exception is a key
id the keyring does not hold: start-up checks need to name it, so `UnknownKeyError` carries it as
an attribute (a key id is public; see `keys.key_id`).
"""

from __future__ import annotations

from integration_api.errors import Internal

DECRYPTION_FAILED = "stored secret could not be decrypted"


class DecryptionError(Internal):
    """A ciphertext did not decrypt; deliberately says nothing about why."""

    default_reason = "DECRYPTION_FAILED"

    def __init__(self) -> None:
        super().__init__(DECRYPTION_FAILED)

    def __reduce__(self) -> tuple[type[DecryptionError], tuple[()]]:
        return (type(self), ())


class UnknownKeyError(DecryptionError):
    """The ciphertext names a key id that this keyring does not hold."""

    def __init__(self, key_id: str) -> None:
        super().__init__()
        self.key_id = key_id

    def __reduce__(self) -> tuple[type[UnknownKeyError], tuple[str]]:  # type: ignore[override]
        return (type(self), (self.key_id,))
