"""Redis as a shared cache of credential rows (ciphertext only), never the source of truth.

Every Redis failure is absorbed: reads miss and fall through to PostgreSQL, writes are
skipped, and one warning is logged per outage (and one line when Redis is back). Timeouts are
short so that a dead Redis costs a request milliseconds, not seconds.

Whoever can write to Redis is not trusted with what a row says: entries are authenticated
(`cache.entry`), and one that does not verify is deleted and read from PostgreSQL instead,
with one warning per episode. An authentic entry written before this replica last heard that
the credential changed is treated as stale: that is what a replayed old entry looks like.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable

import redis.asyncio as redis
import structlog
from redis.exceptions import RedisError

from integration_api.cache.entry import UntrustedEntry, open_entry, seal_entry
from integration_api.cache.redis_client import create_redis_client
from integration_api.config import RedisSettings
from integration_api.credentials.cache import TOMBSTONE_SECONDS, CacheLookup, FillTicket
from integration_api.store.failure_reason import connection_failure_reason
from integration_api.store.models import CredentialRow
from integration_api.vault import Keyring

log = structlog.get_logger("integration_api.cache")

# Rejections closer together than this are one episode and one warning.
UNTRUSTED_EPISODE_SECONDS = 60.0

# Compare-and-set: write the entry only while the tombstone is what the reader's miss saw.
_FILL_SCRIPT = """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


class RedisCredentialCache:
    def __init__(
        self,
        client: redis.Redis,
        key_prefix: str,
        ttl_seconds: int,
        keyring: Keyring,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._prefix = key_prefix
        self._ttl = max(1, ttl_seconds)
        self._keyring = keyring
        self._wall_clock = wall_clock
        self._fill = client.register_script(_FILL_SCRIPT)
        self._outage = False
        self._last_untrusted: float | None = None
        # id → wall-clock time this replica last invalidated it, kept as long as an entry lives.
        self._invalidated: OrderedDict[str, float] = OrderedDict()

    @classmethod
    def from_settings(
        cls, settings: RedisSettings, ttl_seconds: int, keyring: Keyring
    ) -> RedisCredentialCache:
        client = create_redis_client(settings)
        return cls(client, settings.key_prefix, ttl_seconds, keyring)

    def _key(self, credential_id: str) -> str:
        return f"{self._prefix}credential:{credential_id}"

    def _tombstone_key(self, credential_id: str) -> str:
        return f"{self._prefix}credential-tombstone:{credential_id}"

    async def get(self, credential_id: str) -> CacheLookup:
        unusable = CacheLookup(None, FillTicket(credential_id, None, time.monotonic()))
        try:
            raw, marker = await self._client.mget(
                self._key(credential_id), self._tombstone_key(credential_id)
            )
        except RedisError as error:
            self._note_outage(error)
            return unusable
        if await self._recovered():
            return unusable  # entries may have missed invalidations during the outage
        seen = marker.decode() if isinstance(marker, bytes) else ""
        ticket = FillTicket(credential_id, seen, time.monotonic())
        row = await self._trusted_row(credential_id, raw) if isinstance(raw, bytes) else None
        return CacheLookup(row, ticket)

    async def put(self, row: CredentialRow, ticket: FillTicket) -> None:
        if ticket.credential_id != row.id or ticket.expired(time.monotonic()):
            return
        entry = seal_entry(self._keyring, row, now=self._wall_clock(), ttl=self._ttl)
        keys = [self._key(row.id), self._tombstone_key(row.id)]
        try:
            await self._fill(keys=keys, args=[ticket.marker or "", entry, self._ttl])
        except RedisError as error:
            self._note_outage(error)
            return
        await self._recovered()

    async def invalidate(self, credential_id: str) -> None:
        self._remember_invalidation(credential_id)
        try:
            async with self._client.pipeline(transaction=True) as pipeline:
                pipeline.set(
                    self._tombstone_key(credential_id), secrets.token_hex(8), ex=TOMBSTONE_SECONDS
                )
                pipeline.delete(self._key(credential_id))
                await pipeline.execute()
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

    async def _trusted_row(self, credential_id: str, raw: bytes) -> CredentialRow | None:
        try:
            opened = open_entry(self._keyring, raw, credential_id, now=self._wall_clock())
        except (UntrustedEntry, KeyError, TypeError, ValueError) as error:
            self._note_untrusted(credential_id, error)
            await self._drop(credential_id)
            return None
        invalidated_at = self._invalidated.get(credential_id)
        if invalidated_at is not None and opened.written_at < invalidated_at:
            await self._drop(credential_id)  # older than a change this replica has heard of
            return None
        return opened.row

    async def _drop(self, credential_id: str) -> None:
        try:
            await self._client.delete(self._key(credential_id))
        except RedisError as error:
            self._note_outage(error)

    def _remember_invalidation(self, credential_id: str) -> None:
        now = self._wall_clock()
        self._invalidated.pop(credential_id, None)
        self._invalidated[credential_id] = now
        while self._invalidated:
            oldest_id, when = next(iter(self._invalidated.items()))
            if now - when <= self._ttl:
                break
            del self._invalidated[oldest_id]

    def _note_untrusted(self, credential_id: str, error: Exception) -> None:
        now = time.monotonic()
        quiet = (
            self._last_untrusted is None or now - self._last_untrusted > UNTRUSTED_EPISODE_SECONDS
        )
        self._last_untrusted = now
        if quiet:
            why = str(error) if isinstance(error, UntrustedEntry) else "the entry is unreadable"
            log.warning(
                "cached credential entry failed authentication; ignored, read from PostgreSQL",
                credential_id=credential_id,
                why=why,
            )

    def _note_outage(self, error: RedisError) -> None:
        if not self._outage:
            self._outage = True
            log.warning("redis unreachable; serving from PostgreSQL", reason=self._reason(error))

    def _reason(self, error: RedisError) -> str:
        target = self._client.connection_pool.connection_kwargs
        return connection_failure_reason(
            error,
            address=f"{target.get('host')}:{target.get('port')}",
            secrets=[str(target.get("password") or "")],
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
