"""Operator access to credentials by encryption key, across all tenants, for key rotation.

Kept apart from `CredentialRepository` so that the tenant-scoped code has no unscoped statement
at all. Nothing here returns secret plaintext: rotation reads ciphertext, has the vault re-encrypt
it under the primary key, and writes it back with `swap_ciphertext`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from integration_api.store.credential_rows import parse_credential_id
from integration_api.store.models import RewrapCandidate
from integration_api.store.notifications import notify_credential_changed

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

_ROWS_NOT_ON_KEY = """
SELECT id, organization_id, project_id, provider, ciphertext, key_id FROM credentials
WHERE key_id <> $1 AND ($2::uuid IS NULL OR id > $2)
ORDER BY id
LIMIT $3"""

# Compare-and-set on the ciphertext itself: if a person replaced the secret after the rewrap
# read it, nothing matches and the rewrap picks the row up again on its next pass.
_SWAP_CIPHERTEXT = """
UPDATE credentials SET ciphertext = $3, key_id = $4, fingerprint = $5
WHERE id = $1 AND ciphertext = $2"""


class CredentialKeyRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def count_by_key_id(self) -> dict[str, int]:
        """How many credentials each key encrypted; a key may retire once its count is 0."""
        async with self._pool.acquire() as connection:
            records = await connection.fetch(
                "SELECT key_id, count(*) AS credentials FROM credentials GROUP BY key_id"
            )
        return {record["key_id"]: record["credentials"] for record in records}

    async def distinct_key_ids(self) -> set[str]:
        """Every key the stored ciphertexts need; the keyring must hold all of them to serve."""
        async with self._pool.acquire() as connection:
            records = await connection.fetch("SELECT DISTINCT key_id FROM credentials")
        return {record["key_id"] for record in records}

    async def rows_not_on_key(
        self, key_id: str, limit: int = 100, *, after_id: str | None = None
    ) -> list[RewrapCandidate]:
        """Up to `limit` credentials encrypted under another key, in id order.

        Rewrapped rows leave this set, so calling again continues the work; `after_id` lets a
        pass step over rows it could not rewrap instead of meeting them again.
        """
        after_uuid = parse_credential_id(after_id) if after_id else None
        if after_id and after_uuid is None:
            raise ValueError("after_id must be a credential id")
        async with self._pool.acquire() as connection:
            records = await connection.fetch(_ROWS_NOT_ON_KEY, key_id, after_uuid, limit)
        return [
            RewrapCandidate(
                id=str(record["id"]),
                organization_id=record["organization_id"],
                project_id=record["project_id"],
                provider=record["provider"],
                ciphertext=bytes(record["ciphertext"]),
                key_id=record["key_id"],
            )
            for record in records
        ]

    async def swap_ciphertext(
        self,
        credential_id: str,
        old_ciphertext: bytes,
        new_ciphertext: bytes,
        new_key_id: str,
        new_fingerprint: str,
    ) -> bool:
        """Replace the ciphertext only if it is still `old_ciphertext`; False when it was not.

        Leaves `version` and `updated_at` alone: the secret is the same, only its wrapping
        changed, so nobody's edit in progress should fail because of it.
        """
        credential_uuid = parse_credential_id(credential_id)
        if credential_uuid is None:
            return False
        async with self._pool.acquire() as connection, connection.transaction():
            status = await connection.execute(
                _SWAP_CIPHERTEXT,
                credential_uuid,
                old_ciphertext,
                new_ciphertext,
                new_key_id,
                new_fingerprint,
            )
            swapped = status == "UPDATE 1"
            if swapped:
                # Cached copies still name the key that is about to retire.
                await notify_credential_changed(connection, credential_id)
        return swapped
