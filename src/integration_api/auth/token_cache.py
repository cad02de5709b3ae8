"""Verified service tokens, remembered until they expire.

Platform services reuse one token for many calls; verifying its HMAC and claims again on every
RPC costs more than the rest of the interceptor. An entry is keyed by the token's SHA-256 (the
token itself is not kept), holds the principal verification produced, and is dropped once the
token's `exp` passes, so an expired token is refused exactly as without the cache.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

import jwt

from integration_api.auth.tokens import TokenPolicy, verify_token
from integration_api.principal import Principal

DEFAULT_CAPACITY = 4096


class VerifiedTokenCache:
    def __init__(
        self,
        policy: TokenPolicy,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.time,
        verify: Callable[[TokenPolicy, str], Principal] = verify_token,
    ) -> None:
        self._policy = policy
        self._verify = verify
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    def principal_for(self, token: str) -> Principal:
        """The token's principal; raises Unauthenticated exactly as `verify_token` does."""
        digest = hashlib.sha256(token.encode()).digest()
        entry = self._entries.get(digest)
        now = self._clock()
        if entry is not None and now < entry[0]:
            self._entries.move_to_end(digest)
            return entry[1]
        principal = self._verify(self._policy, token)
        self._remember(digest, token, principal)
        return principal

    def __len__(self) -> int:
        return len(self._entries)

    def _remember(self, digest: bytes, token: str, principal: Principal) -> None:
        # The signature was verified above; read `exp` again only to know when to forget.
        claims = jwt.decode(token, options={"verify_signature": False})
        expires_at = float(claims["exp"]) + self._policy.leeway_seconds
        self._entries[digest] = (expires_at, principal)
        self._entries.move_to_end(digest)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
