"""What the credential operations need of a credential cache (`cache/` implements it).

A cache entry is a credential row exactly as stored: the vault's ciphertext and non-secret
metadata. Plaintext never enters a cache. Entries always expire (TTL), and every write,
disable and delete invalidates the entry, so a cache can only ever be briefly stale in the
direction of "fetch again from PostgreSQL".

Invalidation leaves a tombstone, and filling the cache after a miss is a compare-and-set
against it: a reader that fetched a row from PostgreSQL just before a disable or delete, and
writes it to the cache just after, finds a tombstone newer than its miss and drops the write.
Otherwise it would put the old row back for a whole TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from integration_api.store.models import CredentialRow

# A tombstone outlives every fill ticket by a wide margin: a ticket older than
# FILL_TICKET_SECONDS is not used, so the tombstone a fill must notice is still there.
TOMBSTONE_SECONDS = 60
FILL_TICKET_SECONDS = 30


@dataclass(frozen=True)
class FillTicket:
    """What a miss saw: the tombstone then present (`marker`, "" for none) and when.

    `marker` is None when the cache could not be read; such a ticket never fills.
    """

    credential_id: str
    marker: str | None
    taken_at: float

    def expired(self, now: float) -> bool:
        return self.marker is None or now - self.taken_at >= FILL_TICKET_SECONDS


@dataclass(frozen=True)
class CacheLookup:
    """A cached row, or the ticket with which the row read from PostgreSQL may be cached."""

    row: CredentialRow | None
    ticket: FillTicket


class CredentialCache(Protocol):
    async def get(self, credential_id: str) -> CacheLookup: ...

    async def put(self, row: CredentialRow, ticket: FillTicket) -> None:
        """Caches `row` unless the id was invalidated since `ticket` was taken."""

    async def invalidate(self, credential_id: str) -> None: ...

    async def clear(self) -> None: ...

    async def close(self) -> None: ...
