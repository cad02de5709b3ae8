"""The memory of accepted webhooks: shared by replicas through Redis, opaque and expiring there,
kept in the process while Redis is away (and still honoured when it is back), bounded in memory."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from integration_api_proto.integration.v1 import WebhookRejection
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub

from integration_api.cache.redis_client import create_redis_client
from integration_api.config import RedisSettings
from integration_api.telephony.replays import (
    RETRY_AFTER_OUTAGE_SECONDS,
    InProcessReplays,
    RedisReplays,
)
from integration_api.vault import generate_key
from tests.support.service import RunningService, running_service
from tests.support.tcp_proxy import TcpProxy
from tests.telephony.conftest import TWILIO_TOKEN, secrets_by_provider, store
from tests.telephony.signing import TelnyxKeys, twilio_form
from tests.telephony.test_validate_webhook import CALL_FIELDS


@pytest.fixture
async def replicas(
    package_database_dsn: str, redis_prefix: str
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    shared = {
        "secret": secrets.token_urlsafe(48),
        "crypto_key": generate_key(),
        "redis": RedisSettings(host="127.0.0.1", key_prefix=redis_prefix),
    }
    async with (
        running_service(package_database_dsn, **shared) as first,
        running_service(package_database_dsn, **shared) as second,
    ):
        yield first, second


async def test_a_webhook_accepted_by_one_replica_is_replayed_on_another(
    replicas: tuple[RunningService, RunningService],
) -> None:
    first, second = replicas
    secret = secrets_by_provider(TelnyxKeys.generate())["twilio"]
    credential_id = await store(first, "twilio", secret)
    webhook = twilio_form(TWILIO_TOKEN, "https://hooks.example.com/fleet", CALL_FIELDS)
    request = webhook.request(credential_id)
    accepted = await TelephonyServiceStub(first.channel).validate_webhook(
        request, metadata=first.auth()
    )
    assert accepted.valid
    again = await TelephonyServiceStub(second.channel).validate_webhook(
        request, metadata=second.auth()
    )
    assert (again.valid, again.rejection) == (False, WebhookRejection.REPLAYED)


@pytest.fixture
async def redis_client() -> AsyncIterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=6379)
    yield client
    await client.aclose()


async def test_redis_holds_opaque_keys_that_expire(
    redis_prefix: str, redis_client: redis.Redis
) -> None:
    replays = RedisReplays(create_redis_client(RedisSettings(host="127.0.0.1")), redis_prefix)
    try:
        key = secrets.token_hex(32)
        assert await replays.first_time(key, 30)
        assert not await replays.first_time(key, 30)
        stored = [name.decode() async for name in redis_client.scan_iter(f"{redis_prefix}*")]
        assert stored == [f"{redis_prefix}webhook-replays:{key}"]
        assert 0 < await redis_client.pttl(stored[0]) <= 30_000
    finally:
        await replays.close()


async def test_while_redis_is_away_the_process_remembers_and_still_refuses_after(
    redis_prefix: str,
) -> None:
    proxy = TcpProxy("127.0.0.1", 6379)
    await proxy.start()
    settings = RedisSettings(host="127.0.0.1", port=proxy.port)
    replays = RedisReplays(create_redis_client(settings), redis_prefix)
    try:
        before, during = secrets.token_hex(8), secrets.token_hex(8)
        assert await replays.first_time(before, 60)
        await proxy.cut()
        assert await replays.first_time(during, 60)
        assert not await replays.first_time(during, 60)
        await proxy.start()
        await asyncio.sleep(RETRY_AFTER_OUTAGE_SECONDS + 0.2)
        assert not await replays.first_time(before, 60), "Redis remembered it all along"
        assert not await replays.first_time(during, 60), "the process remembered it meanwhile"
        assert await replays.first_time(secrets.token_hex(8), 60)
    finally:
        await proxy.cut()
        await replays.close()


async def test_the_in_process_memory_forgets_what_expired() -> None:
    replays = InProcessReplays()
    assert await replays.first_time("a", 0.05)
    assert not await replays.first_time("a", 0.05)
    await asyncio.sleep(0.1)
    assert await replays.first_time("a", 0.05)


async def test_the_in_process_memory_is_bounded() -> None:
    replays = InProcessReplays(capacity=10)
    for number in range(30):
        assert await replays.first_time(f"key-{number}", 60 + number)
        assert len(replays) <= 10
    # The latest to expire were kept.
    assert not await replays.first_time("key-29", 60)
    assert await replays.first_time("key-0", 60)


async def test_calls_arriving_together_share_a_pipeline_and_one_key_is_new_once(
    redis_prefix: str, redis_client: redis.Redis
) -> None:
    replays = RedisReplays(create_redis_client(RedisSettings(host="127.0.0.1")), redis_prefix)
    try:
        keys = [secrets.token_hex(8) for _ in range(40)]
        answers = await asyncio.gather(*(replays.first_time(key, 30) for key in keys + keys))
        assert answers == [True] * 40 + [False] * 40
        stored = [name async for name in redis_client.scan_iter(f"{redis_prefix}*")]
        assert len(stored) == 40
    finally:
        await replays.close()


async def test_a_scope_flooding_the_in_process_memory_forgets_only_its_own() -> None:
    """A tenant can fill the memory with webhooks signed by secrets of its own (remembered for
    as long as any); past the capacity, what it loses is its own, not another tenant's."""
    replays = InProcessReplays(capacity=100)
    victims = [f"victim-{number}" for number in range(20)]
    for key in victims:
        assert await replays.first_time(key, 30, scope="victim")
    for number in range(1000):
        assert await replays.first_time(f"flood-{number}", 600, scope="flooder")
        assert len(replays) <= 100
    for key in victims:
        assert not await replays.first_time(key, 30, scope="victim"), key
    # The flooder kept its latest to expire, within what the victim left.
    assert not await replays.first_time("flood-999", 600, scope="flooder")
    assert await replays.first_time("flood-0", 600, scope="flooder")


async def test_scopes_within_their_share_keep_everything() -> None:
    replays = InProcessReplays(capacity=10)
    for number in range(2):
        assert await replays.first_time(f"a-{number}", 60, scope="a")
        assert await replays.first_time(f"b-{number}", 60, scope="b")
    for number in range(20):
        assert await replays.first_time(f"c-{number}", 600, scope="c")
        assert len(replays) <= 10
    for number in range(2):
        assert replays.seen(f"a-{number}", "a")
        assert replays.seen(f"b-{number}", "b")
    assert replays.seen("c-19", "c")
    assert not replays.seen("c-0", "c")
