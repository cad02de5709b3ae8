"""Credential-row cache: Redis when configured, otherwise in-process; ciphertext only.

Both implement `credentials.cache.CredentialCache`; `tenant_leases` implements the shared lease
store of `llm.tenant_calls`.
"""

from integration_api.cache.memory import MemoryCredentialCache
from integration_api.cache.redis_cache import RedisCredentialCache

__all__ = ["MemoryCredentialCache", "RedisCredentialCache"]
