"""Both cache kinds, over the machine's Redis for the shared one, and rows to put in them."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as redis

from integration_api.cache import MemoryCredentialCache, RedisCredentialCache
from integration_api.credentials.cache import CredentialCache
from integration_api.store.models import CredentialRow
from integration_api.vault import Keyring

TTL_SECONDS = 300


def credential_row(
    status: str = "active", base_url: str = "https://api.openai.com/v1"
) -> CredentialRow:
    now = datetime.now(UTC)
    return CredentialRow(
        id=str(uuid.uuid4()),
        organization_id="org-1",
        project_id="project-1",
        provider="openai",
        name="primary",
        config={"base_url": base_url},
        ciphertext=os.urandom(48),
        key_id="k0000000000000001",
        secret_hint="…abcd",
        fingerprint="fp_0011223344556677",
        status=status,
        status_reason="",
        last_check_at=None,
        last_check_outcome=None,
        last_check_latency_ms=None,
        last_check_message="",
        rotated_at=None,
        rotated_by="",
        created_at=now,
        created_by="user:alice",
        updated_at=now,
        version=1,
    )


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(os.urandom(32))


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def redis_cache(
    redis_url: str, redis_prefix: str, keyring: Keyring
) -> AsyncIterator[RedisCredentialCache]:
    cache = RedisCredentialCache(
        redis.Redis.from_url(redis_url), redis_prefix, TTL_SECONDS, keyring
    )
    yield cache
    await cache.clear()
    await cache.close()


@pytest.fixture(params=["memory", "redis"])
async def cache(
    request: pytest.FixtureRequest, redis_url: str, redis_prefix: str, keyring: Keyring
) -> AsyncIterator[CredentialCache]:
    if request.param == "memory":
        yield MemoryCredentialCache(ttl_seconds=TTL_SECONDS)
        return
    shared = RedisCredentialCache(
        redis.Redis.from_url(redis_url), redis_prefix, TTL_SECONDS, keyring
    )
    yield shared
    await shared.clear()
    await shared.close()
