"""Credential-row cache: Redis when configured, otherwise in-process; ciphertext only."""

from integration_api.cache.base import CredentialCache
from integration_api.cache.memory import MemoryCredentialCache
from integration_api.cache.redis_cache import RedisCredentialCache

__all__ = ["CredentialCache", "MemoryCredentialCache", "RedisCredentialCache"]
