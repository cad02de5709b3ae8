"""The Redis client every shared-state user of the process builds the same way."""

from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from integration_api.config import RedisSettings
from integration_api.tls import redis_tls_options

SOCKET_TIMEOUT_SECONDS = 0.25


def create_redis_client(settings: RedisSettings) -> redis.Redis:
    """Short timeouts and no retries: Redis that is down costs one short timeout, then the
    caller's fallback (PostgreSQL for the cache, the process's own share for the caps)."""
    return redis.Redis(
        host=settings.host,
        port=settings.port,
        db=settings.db,
        username=settings.user or None,
        password=settings.password or None,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        max_connections=settings.max_connections,
        retry=Retry(NoBackoff(), 0),
        **redis_tls_options(settings),
    )
