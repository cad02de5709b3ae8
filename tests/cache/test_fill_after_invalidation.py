"""A row read before a change is never written to the cache after that change's invalidation."""

from __future__ import annotations

import time
from dataclasses import replace

from integration_api.credentials.cache import FILL_TICKET_SECONDS, CredentialCache
from tests.cache.conftest import credential_row


async def test_a_miss_then_a_fill_caches_the_row(cache: CredentialCache) -> None:
    row = credential_row()
    lookup = await cache.get(row.id)
    assert lookup.row is None
    await cache.put(row, lookup.ticket)
    assert (await cache.get(row.id)).row == row


async def test_a_fill_after_an_invalidation_since_the_miss_is_refused(
    cache: CredentialCache,
) -> None:
    row = credential_row()
    lookup = await cache.get(row.id)  # the reader misses, then reads PostgreSQL...
    await cache.invalidate(row.id)  # ...meanwhile the credential is disabled or deleted
    await cache.put(row, lookup.ticket)  # the reader's old row arrives late
    assert (await cache.get(row.id)).row is None


async def test_a_second_invalidation_also_refuses_a_fill_that_saw_the_first(
    cache: CredentialCache,
) -> None:
    row = credential_row()
    await cache.invalidate(row.id)
    lookup = await cache.get(row.id)
    await cache.invalidate(row.id)
    await cache.put(row, lookup.ticket)
    assert (await cache.get(row.id)).row is None


async def test_a_miss_after_the_invalidation_fills_again(cache: CredentialCache) -> None:
    row = credential_row()
    await cache.invalidate(row.id)
    lookup = await cache.get(row.id)
    disabled = replace(row, status="disabled", version=2)
    await cache.put(disabled, lookup.ticket)
    assert (await cache.get(row.id)).row == disabled


async def test_a_ticket_older_than_its_limit_does_not_fill(cache: CredentialCache) -> None:
    # The tombstone a late fill must notice lives longer than any ticket that may still fill.
    row = credential_row()
    lookup = await cache.get(row.id)
    stale = replace(lookup.ticket, taken_at=time.monotonic() - FILL_TICKET_SECONDS - 1)
    await cache.put(row, stale)
    assert (await cache.get(row.id)).row is None


async def test_a_ticket_for_another_id_does_not_fill(cache: CredentialCache) -> None:
    row, other = credential_row(), credential_row()
    lookup = await cache.get(other.id)
    await cache.put(row, lookup.ticket)
    assert (await cache.get(row.id)).row is None
