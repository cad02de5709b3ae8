"""Tests' view of the credentials alone, by encryption key: the `credentials` sealed store.

Key status, rewrap and readiness cover every sealed store (store/sealed.py); store and key tests
read and tamper with credential rows through this narrower, credential-shaped view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from integration_api.store.credential_rows import parse_credential_id
from integration_api.store.sealed import CREDENTIALS, SealedValueRepository

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool


@dataclass(frozen=True)
class RewrapCandidate:
    """What a key rotation needs to re-encrypt one row: the ciphertext and what it is bound to."""

    id: str
    organization_id: str
    project_id: str
    provider: str
    ciphertext: bytes = field(repr=False)
    key_id: str


class CredentialKeyRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._sealed = SealedValueRepository(pool)

    async def count_by_key_id(self) -> dict[str, int]:
        """How many credentials each key encrypted."""
        return await self._sealed.count_by_key_id(CREDENTIALS)

    async def distinct_key_ids(self) -> set[str]:
        """Every key the stored credentials need."""
        return set(await self.count_by_key_id())

    async def rows_not_on_key(
        self, key_id: str, limit: int = 100, *, after_id: str | None = None
    ) -> list[RewrapCandidate]:
        """Up to `limit` credentials encrypted under another key, in id order."""
        if after_id and parse_credential_id(after_id) is None:
            raise ValueError("after_id must be a credential id")
        rows = await self._sealed.rows_not_on_key(CREDENTIALS, key_id, limit, after_id=after_id)
        return [
            RewrapCandidate(
                id=row.row_id,
                organization_id=row.binding.organization_id,
                project_id=row.binding.project_id,
                provider=row.binding.provider,
                ciphertext=row.ciphertext,
                key_id=row.key_id,
            )
            for row in rows
        ]

    async def swap_ciphertext(
        self,
        credential_id: str,
        old_ciphertext: bytes,
        new_ciphertext: bytes,
        new_key_id: str,
        new_fingerprint: str,
    ) -> bool:
        """Replace the ciphertext only if it is still `old_ciphertext`; False when it was not."""
        if parse_credential_id(credential_id) is None:
            return False
        return await self._sealed.swap_ciphertext(
            CREDENTIALS,
            credential_id,
            old_ciphertext,
            new_ciphertext,
            new_key_id,
            new_fingerprint,
        )
