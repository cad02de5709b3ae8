"""Per-tenant caps hold across processes through Redis leases, and without Redis per process.

Each `RedisTenantLeases` below has its own client, as each worker or replica has; the holder
that crashes is a real process killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import sys
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from integration_api.cache.tenant_leases import RedisTenantLeases
from integration_api.errors import ResourceExhausted
from integration_api.llm.tenant_calls import TenantCallLimiter, process_share
from integration_api.principal import Tenant

CAP = 4
TENANT = Tenant("org-a", "project")


@pytest.fixture
async def fleet(redis_url: str, redis_prefix: str) -> AsyncIterator[list[RedisTenantLeases]]:
    stores = [
        RedisTenantLeases(redis.Redis.from_url(redis_url), redis_prefix, lease_seconds=1.0)
        for _ in range(2)
    ]
    yield stores
    for store in stores:
        await store.close()


async def _take(
    limiter: TenantCallLimiter, stack: contextlib.AsyncExitStack, tenant: Tenant
) -> bool:
    try:
        await stack.enter_async_context(limiter.slot(tenant))
    except ResourceExhausted:
        return False
    return True


async def test_two_processes_together_admit_exactly_the_cap(
    fleet: list[RedisTenantLeases],
) -> None:
    first, second = (TenantCallLimiter(CAP, leases=store, share=2) for store in fleet)
    async with contextlib.AsyncExitStack() as stack:
        admitted = [await _take(limiter, stack, TENANT) for limiter in (first, second) * 4]
        other_tenant = await _take(second, stack, Tenant("org-b", "project"))
    assert admitted.count(True) == CAP
    assert admitted[:CAP] == [True] * CAP
    assert other_tenant
    async with contextlib.AsyncExitStack() as stack:
        # Every slot was given back when its calls ended.
        assert [await _take(first, stack, TENANT) for _ in range(CAP)] == [True] * CAP


async def test_leases_of_a_live_process_are_renewed_past_their_lifetime(
    fleet: list[RedisTenantLeases],
) -> None:
    holder, other = (TenantCallLimiter(CAP, leases=store) for store in fleet)
    async with contextlib.AsyncExitStack() as stack:
        assert [await _take(holder, stack, TENANT) for _ in range(CAP)] == [True] * CAP
        await asyncio.sleep(2.5)  # two and a half lifetimes of a lease
        assert not await _take(other, stack, TENANT)


async def test_a_crashed_processs_leases_expire(
    fleet: list[RedisTenantLeases], redis_url: str, redis_prefix: str
) -> None:
    port = str(redis.Redis.from_url(redis_url).connection_pool.connection_kwargs["port"])
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "tests.caps.lease_holder", port, redis_prefix, TENANT.organization_id),
        *(str(CAP), "1.0"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 10) == b"holding\n"
    limiter = TenantCallLimiter(CAP, leases=fleet[0])
    async with contextlib.AsyncExitStack() as stack:
        assert not await _take(limiter, stack, TENANT)
    holder.kill()
    await holder.wait()
    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        while not await _take(limiter, stack, TENANT):
            assert time.monotonic() - started < 3.0
            await asyncio.sleep(0.1)
        assert [await _take(limiter, stack, TENANT) for _ in range(CAP - 1)] == [True] * 3


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_with_redis_down_each_process_admits_its_share_and_calls_still_work() -> None:
    down = RedisTenantLeases(redis.Redis(port=_unused_port()), f"itest:{secrets.token_hex(4)}:")
    limiter = TenantCallLimiter(CAP, leases=down, share=process_share(CAP, workers=2))
    try:
        async with contextlib.AsyncExitStack() as stack:
            admitted = [await _take(limiter, stack, TENANT) for _ in range(3)]
            assert limiter.in_flight(TENANT) == 2
        assert admitted == [True, True, False]
        assert limiter.in_flight(TENANT) == 0
    finally:
        await down.close()


def test_a_process_share_is_the_cap_over_the_workers_and_at_least_one() -> None:
    assert process_share(256, 4) == 64
    assert process_share(3, 4) == 1
    assert process_share(5, 0) == 5
