"""A process that takes a tenant's leases and holds them until it is killed.

Run as `python -m tests.caps.lease_holder REDIS_PORT PREFIX ORGANIZATION COUNT LEASE_SECONDS`;
prints one line once it holds them all.
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as redis

from integration_api.cache.tenant_leases import RedisTenantLeases
from integration_api.principal import Tenant


async def hold(port: int, prefix: str, organization: str, count: int, seconds: float) -> None:
    leases = RedisTenantLeases(redis.Redis(port=port), prefix, lease_seconds=seconds)
    tenant = Tenant(organization, "project")
    for _ in range(count):
        assert await leases.acquire("calls", tenant, count) is not None
    print("holding", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    port, prefix, organization, count, seconds = sys.argv[1:]
    asyncio.run(hold(int(port), prefix, organization, int(count), float(seconds)))
