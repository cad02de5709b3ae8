"""Redis may hold cached rows but cannot change what they say: edited entries are not used."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import pytest
import redis.asyncio as redis
from structlog.testing import capture_logs

from integration_api.cache import RedisCredentialCache
from integration_api.store.models import CredentialRow
from integration_api.vault import Keyring
from tests.cache.conftest import TTL_SECONDS, credential_row

WARNING = "cached credential entry failed authentication; ignored, read from PostgreSQL"


def _edit_payload(entry: bytes, change: Callable[[dict[str, object]], None]) -> bytes:
    """Rewrites the JSON of an entry and keeps its tag, as someone with Redis access could."""
    *head, payload = entry.split(b".", 3)
    data = json.loads(payload)
    change(data)
    return b".".join([*head, json.dumps(data).encode()])


def _activate(data: dict[str, object]) -> None:
    row = data["row"]
    assert isinstance(row, dict)
    row["status"] = "active"


def _redirect(data: dict[str, object]) -> None:
    row = data["row"]
    assert isinstance(row, dict)
    row["config"] = {"base_url": "http://127.0.0.1:1/v1"}


def _extend(data: dict[str, object]) -> None:
    data["expires_at"] = time.time() + 10 * 365 * 86400


EDITS: dict[str, Callable[[bytes], bytes]] = {
    "status disabled to active": lambda entry: _edit_payload(entry, _activate),
    "base_url to another server": lambda entry: _edit_payload(entry, _redirect),
    "expiry pushed out": lambda entry: _edit_payload(entry, _extend),
    "a key id the keyring lacks": lambda entry: entry.replace(
        entry.split(b".")[1], b"k" + b"0" * 16
    ),
    "truncated": lambda entry: entry[:-5],
    "not an entry at all": lambda _entry: b'{"status":"active"}',
}


async def _cached(cache: RedisCredentialCache, row: CredentialRow) -> None:
    lookup = await cache.get(row.id)
    await cache.put(row, lookup.ticket)
    assert (await cache.get(row.id)).row == row


@pytest.mark.parametrize("edit", EDITS)
async def test_an_edited_entry_is_ignored_deleted_and_reported_once(
    redis_cache: RedisCredentialCache,
    redis_client: redis.Redis,
    redis_prefix: str,
    edit: str,
) -> None:
    row = credential_row(status="disabled")
    await _cached(redis_cache, row)
    key = f"{redis_prefix}credential:{row.id}"
    entry = await redis_client.get(key)
    assert isinstance(entry, bytes)
    with capture_logs() as logs:
        for _read in range(3):
            await redis_client.set(key, EDITS[edit](entry))
            assert (await redis_cache.get(row.id)).row is None
            assert await redis_client.get(key) is None
    assert [log["event"] for log in logs].count(WARNING) == 1


async def test_another_credentials_entry_under_this_id_is_ignored(
    redis_cache: RedisCredentialCache, redis_client: redis.Redis, redis_prefix: str
) -> None:
    mine, other = credential_row(status="disabled"), credential_row()
    await _cached(redis_cache, other)
    copied = await redis_client.get(f"{redis_prefix}credential:{other.id}")
    assert isinstance(copied, bytes)
    await redis_client.set(f"{redis_prefix}credential:{mine.id}", copied)
    assert (await redis_cache.get(mine.id)).row is None


async def test_an_old_entry_put_back_after_a_change_is_ignored(
    redis_cache: RedisCredentialCache, redis_client: redis.Redis, redis_prefix: str
) -> None:
    row = credential_row(status="active")
    await _cached(redis_cache, row)
    key = f"{redis_prefix}credential:{row.id}"
    before_the_change = await redis_client.get(key)
    assert isinstance(before_the_change, bytes)
    await redis_cache.invalidate(row.id)  # e.g. the credential was disabled
    await redis_client.set(key, before_the_change)  # replayed, with its valid tag
    assert (await redis_cache.get(row.id)).row is None


async def test_an_entry_past_its_signed_expiry_is_ignored(
    redis_url: str, redis_prefix: str, keyring: Keyring, redis_client: redis.Redis
) -> None:
    now = [time.time()]
    cache = RedisCredentialCache(
        redis.Redis.from_url(redis_url), redis_prefix, TTL_SECONDS, keyring, lambda: now[0]
    )
    try:
        row = credential_row()
        await _cached(cache, row)
        now[0] += TTL_SECONDS + 1  # Redis would have dropped it; someone wrote it back
        assert (await cache.get(row.id)).row is None
    finally:
        await cache.close()


async def test_entries_verify_across_replicas_and_a_key_promotion(
    redis_url: str, redis_prefix: str
) -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    writer = RedisCredentialCache(
        redis.Redis.from_url(redis_url), redis_prefix, TTL_SECONDS, Keyring(old_key)
    )
    promoted = RedisCredentialCache(
        redis.Redis.from_url(redis_url), redis_prefix, TTL_SECONDS, Keyring(new_key, [old_key])
    )
    try:
        row = credential_row()
        await _cached(writer, row)
        assert (await promoted.get(row.id)).row == row
    finally:
        await writer.clear()
        await writer.close()
        await promoted.close()
