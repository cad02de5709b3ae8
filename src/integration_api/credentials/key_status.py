"""Which keys the stored credentials are encrypted under, against the keys this process holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from integration_api.store.credential_keys import CredentialKeyRepository
from integration_api.vault import Keyring

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

ROLE_PRIMARY = "primary"
ROLE_DECRYPT_ONLY = "decrypt-only"
ROLE_MISSING = "missing"


@dataclass(frozen=True)
class KeyUsage:
    """One key id: how this keyring holds it (or `missing`) and how many credentials use it."""

    key_id: str
    role: str
    credentials: int


@dataclass(frozen=True)
class KeyStatus:
    """Every key the keyring holds and every key the database needs; the primary comes first."""

    keys: tuple[KeyUsage, ...]

    @property
    def primary_key_id(self) -> str:
        return next(usage.key_id for usage in self.keys if usage.role == ROLE_PRIMARY)

    @property
    def total(self) -> int:
        return sum(usage.credentials for usage in self.keys)

    @property
    def off_primary(self) -> int:
        """Credentials a rewrap still has to move (including those it cannot decrypt)."""
        return sum(usage.credentials for usage in self.keys if usage.role != ROLE_PRIMARY)

    @property
    def missing_key_ids(self) -> tuple[str, ...]:
        """Key ids the database needs and the keyring lacks: the service cannot serve them."""
        return tuple(usage.key_id for usage in self.keys if usage.role == ROLE_MISSING)

    @property
    def retirable_key_ids(self) -> tuple[str, ...]:
        """Decrypt-only keys no credential uses any more."""
        return tuple(
            usage.key_id
            for usage in self.keys
            if usage.role == ROLE_DECRYPT_ONLY and usage.credentials == 0
        )


async def key_status(pool: ConnectionPool, keyring: Keyring) -> KeyStatus:
    counts = await CredentialKeyRepository(pool).count_by_key_id()
    held = [
        KeyUsage(keyring.primary_key_id, ROLE_PRIMARY, counts.get(keyring.primary_key_id, 0)),
        *(
            KeyUsage(key_id, ROLE_DECRYPT_ONLY, counts.get(key_id, 0))
            for key_id in keyring.decrypt_only_key_ids
        ),
    ]
    missing = [
        KeyUsage(key_id, ROLE_MISSING, count)
        for key_id, count in sorted(counts.items())
        if not keyring.has(key_id)
    ]
    return KeyStatus(keys=(*held, *missing))
