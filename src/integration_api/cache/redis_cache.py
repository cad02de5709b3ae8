"""Redis as a shared cache of credential rows (ciphertext only), never the source of truth.

Every Redis failure is absorbed: reads miss and fall through to PostgreSQL, writes are
skipped, and one warning is logged per outage (and one line when Redis is back). Timeouts are
short so that a dead Redis costs a request milliseconds, not seconds.
"""

from __future__ import annotations

import redis.asyncio as redis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from integration_api.cache.base import decode_row, encode_row
from integration_api.config import RedisSettings
from integration_api.store.models import CredentialRow

log = structlog.get_logger("integration_api.cache")

SOCKET_TIMEOUT_SECONDS = 0.25


class RedisCredentialCache:
    def __init__(self, client: redis.Redis, key_prefix: str, ttl_seconds: int) -> None:
        self._client = client
        self._prefix = key_prefix
        self._ttl = max(1, ttl_seconds)
        self._outage = False

    @classmethod
    def from_settings(cls, settings: RedisSettings, ttl_seconds: int) -> RedisCredentialCache:
        client = redis.Redis(
            host=settings.host,
            port=settings.port,
            db=settings.db,
            username=settings.user or None,
            password=settings.password or None,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            max_connections=settings.max_connections,
            # No retries: a cache that is down should cost one short timeout, then PostgreSQL.
            retry=Retry(NoBackoff(), 0),
        )
        return cls(client, settings.key_prefix, ttl_seconds)

    def _key(self, credential_id: str) -> str:
        return f"{self._prefix}credential:{credential_id}"

    async def get(self, credential_id: str) -> CredentialRow | None:
        try:
            raw = await self._client.get(self._key(credential_id))
        except RedisError as error:
            self._note_outage(error)
            return None
        if await self._recovered():
            return None  # entries may have missed invalidations during the outage
        return decode_row(raw) if isinstance(raw, bytes) else None

    async def put(self, row: CredentialRow) -> None:
        try:
            await self._client.set(self._key(row.id), encode_row(row), ex=self._ttl)
        except RedisError as error:
            self._note_outage(error)
            return
        await self._recovered()

    async def invalidate(self, credential_id: str) -> None:
        try:
            await self._client.delete(self._key(credential_id))
        except RedisError as error:
            self._note_outage(error)
            return
        await self._recovered()

    async def clear(self) -> None:
        """Drops this service's entries (by prefix), e.g. after missing invalidations."""
        try:
            async for key in self._client.scan_iter(match=f"{self._prefix}credential:*"):
                await self._client.delete(key)
        except RedisError as error:
            self._note_outage(error)

    async def close(self) -> None:
        await self._client.aclose()

    def _note_outage(self, error: RedisError) -> None:
        if not self._outage:
            self._outage = True
            log.warning(
                "redis unreachable; serving from PostgreSQL", error_type=type(error).__name__
            )

    async def _recovered(self) -> bool:
        """True once, when Redis answers after an outage; its entries are then dropped, since
        writes during the outage could not invalidate them."""
        if not self._outage:
            return False
        self._outage = False
        log.info("redis reachable again; dropping entries that may be stale")
        await self.clear()
        return True
