"""Which keys the stored sealed values are encrypted under, against the keys this process holds.

Every store of store/sealed.py is counted (credentials, OAuth tokens, pending OAuth
authorizations, the Opstage agent token): a key may retire only when none of them uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from integration_api.store.sealed import SEALED_STORES, SealedValueRepository
from integration_api.vault import Keyring

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

ROLE_PRIMARY = "primary"
ROLE_DECRYPT_ONLY = "decrypt-only"
ROLE_MISSING = "missing"

STORE_NAMES = tuple(store.name for store in SEALED_STORES)


@dataclass(frozen=True)
class KeyUsage:
    """One key id: how this keyring holds it (or `missing`) and how many rows of each store
    (in `STORE_NAMES` order) it encrypted."""

    key_id: str
    role: str
    rows_by_store: tuple[int, ...]

    @property
    def rows(self) -> int:
        return sum(self.rows_by_store)

    def rows_in(self, store_name: str) -> int:
        return self.rows_by_store[STORE_NAMES.index(store_name)]


@dataclass(frozen=True)
class KeyStatus:
    """Every key the keyring holds and every key the database needs; the primary comes first."""

    keys: tuple[KeyUsage, ...]

    @property
    def primary_key_id(self) -> str:
        return next(usage.key_id for usage in self.keys if usage.role == ROLE_PRIMARY)

    @property
    def total(self) -> int:
        return sum(usage.rows for usage in self.keys)

    @property
    def off_primary(self) -> int:
        """Rows a rewrap still has to move (including those it cannot decrypt)."""
        return sum(usage.rows for usage in self.keys if usage.role != ROLE_PRIMARY)

    @property
    def missing_key_ids(self) -> tuple[str, ...]:
        """Key ids the database needs and the keyring lacks: the service cannot serve them."""
        return tuple(usage.key_id for usage in self.keys if usage.role == ROLE_MISSING)

    @property
    def retirable_key_ids(self) -> tuple[str, ...]:
        """Decrypt-only keys no sealed value uses any more."""
        return tuple(
            usage.key_id
            for usage in self.keys
            if usage.role == ROLE_DECRYPT_ONLY and usage.rows == 0
        )


async def key_status(pool: ConnectionPool, keyring: Keyring) -> KeyStatus:
    repository = SealedValueRepository(pool)
    counts = [await repository.count_by_key_id(store) for store in SEALED_STORES]

    def usage(key_id: str, role: str) -> KeyUsage:
        return KeyUsage(key_id, role, tuple(per_store.get(key_id, 0) for per_store in counts))

    held = [
        usage(keyring.primary_key_id, ROLE_PRIMARY),
        *(usage(key_id, ROLE_DECRYPT_ONLY) for key_id in keyring.decrypt_only_key_ids),
    ]
    stored = {key_id for per_store in counts for key_id in per_store}
    missing = [usage(key_id, ROLE_MISSING) for key_id in sorted(stored) if not keyring.has(key_id)]
    return KeyStatus(keys=(*held, *missing))
