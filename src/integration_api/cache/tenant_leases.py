"""Per-tenant call leases in Redis, shared by every worker and replica.

A tenant's leases of one scope are one sorted set: member = lease id, score = when it expires
(Redis's own clock, so replicas' clocks do not matter). Acquiring drops expired leases, counts
and adds in one Lua script (one round trip, atomic); releasing is one ZREM. A process renews
the leases it holds every third of their lifetime, in one pipeline, so a stream may last as
long as it likes, while the leases of a process that crashed age out within `lease_seconds`.

Redis that does not answer makes `acquire` raise LeaseStoreUnavailable at once for a second
(then it is tried again), and the caller falls back to its own share; one warning per outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

from integration_api.cache.redis_outage import RedisOutage
from integration_api.llm.tenant_calls import LeaseStoreUnavailable
from integration_api.principal import Tenant

log = structlog.get_logger("integration_api.cache")

LEASE_SECONDS = 30.0

# KEYS[1]: the tenant's set; ARGV: limit, lease id, lease lifetime in ms.
_ACQUIRE_SCRIPT = """
local now = redis.call('TIME')
local now_ms = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS[1]: the tenant's set; ARGV: lease lifetime in ms, then the lease ids this process holds.
_RENEW_SCRIPT = """
local now = redis.call('TIME')
local expiry = now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class RedisTenantLeases:
    """`TenantLeases` on Redis; `close` stops the renewals (held leases then expire)."""

    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        lease_seconds: float = LEASE_SECONDS,
        max_connections: int = 50,
    ) -> None:
        self._client = client
        # A burst of calls waits its turn for one of the client's connections instead of
        # failing for want of one (which would look like an outage).
        self._gate = asyncio.Semaphore(max(1, max_connections))
        self._prefix = key_prefix
        self._lease_ms = max(1, round(lease_seconds * 1000))
        self._acquire = client.register_script(_ACQUIRE_SCRIPT)
        self._renew = client.register_script(_RENEW_SCRIPT)
        self._held: dict[str, set[str]] = {}  # key → lease ids this process holds
        self._outage = RedisOutage(
            falls_back="redis unavailable; per-tenant caps fall back to this process's share",
            recovers="redis answers again; per-tenant caps are fleet-wide again",
        )
        self._renewer: asyncio.Task[None] | None = None

    def _key(self, scope: str, tenant: Tenant) -> str:
        # The organization's length keeps ("a:b", "c") and ("a", "b:c") apart.
        organization, project = tenant.organization_id, tenant.project_id
        return f"{self._prefix}tenant-leases:{scope}:{len(organization)}:{organization}:{project}"

    async def acquire(self, scope: str, tenant: Tenant, limit: int) -> str | None:
        if self._outage.resting:
            raise LeaseStoreUnavailable
        key, lease = self._key(scope, tenant), secrets.token_hex(8)
        try:
            async with self._gate:
                admitted = await self._acquire(keys=[key], args=[limit, lease, self._lease_ms])
        except RedisError as error:
            self._outage.failed(error)
            raise LeaseStoreUnavailable from None
        self._outage.answered()
        if not admitted:
            return None
        self._held.setdefault(key, set()).add(lease)
        self._start_renewing()
        return lease

    async def release(self, scope: str, tenant: Tenant, lease: str) -> None:
        key = self._key(scope, tenant)
        held = self._held.get(key)
        if held is not None:
            held.discard(lease)
            if not held:
                del self._held[key]
        with contextlib.suppress(RedisError):  # it expires on its own
            async with self._gate:
                await self._client.zrem(key, lease)

    def held(self) -> int:
        """Leases this process holds, of every tenant and scope."""
        return sum(len(leases) for leases in self._held.values())

    def _start_renewing(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        while self._held:
            await asyncio.sleep(self._lease_ms / 3000)
            await self.renew()

    async def renew(self) -> None:
        """Pushes back the expiry of every lease this process holds, in one round trip."""
        if not self._held:
            return
        try:
            async with self._gate, self._client.pipeline(transaction=False) as pipe:
                for key, leases in list(self._held.items()):
                    await self._renew(keys=[key], args=[self._lease_ms, *leases], client=pipe)
                await pipe.execute()
        except RedisError as error:
            self._outage.failed(error)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        await self._client.aclose()
