"""Vertex AI access tokens: obtained with the service-account key, kept in memory, renewed early.

A token is kept per credential and key (a new key file never reuses the old key's token) and
is renewed `REFRESH_MARGIN_SECONDS` before Google says it expires, as google-auth does. However
many calls find the token stale at once, one exchange runs and all of them wait for it: fifty
concurrent chats on an expired token cost one request to the token endpoint, not fifty. A
refused exchange (`invalid_grant`: the key was deleted or rotated) is the credential being
rejected, and nothing is cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.google.service_account import (
    AccessToken,
    exchange_for_access_token,
    parse_service_account,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.key_material import service_account_of

# google-auth treats a token as expired 3 min 45 s before its expiry.
REFRESH_MARGIN_SECONDS = 225.0
# Enough for every Vertex credential a process serves; the least recently used go first.
MAX_CACHED_TOKENS = 4096


@dataclass(frozen=True, repr=False)
class _CachedToken:
    token: AccessToken
    renew_at: float

    def __repr__(self) -> str:
        return "_CachedToken(<redacted>)"


class AccessTokenCache:
    """Access tokens of service-account credentials, with one exchange at a time per key."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin_seconds: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self._clock = clock
        self._margin = refresh_margin_seconds
        self._tokens: OrderedDict[str, _CachedToken] = OrderedDict()
        self._exchanges: dict[str, asyncio.Task[AccessToken]] = {}

    async def token_for(
        self, credential: ProviderCredential, http: ProviderClient, *, provider: str
    ) -> str:
        """A valid access token for the credential's service account.

        Raises:
            FailedPrecondition: CREDENTIAL_REJECTED when the token endpoint refuses the key.
            InvalidArgument: when the key file is unusable.
            ServiceError: the typed error of a failed exchange otherwise.
        """
        key = _cache_key(credential)
        cached = self._tokens.get(key)
        if cached is not None and self._clock() < cached.renew_at:
            self._tokens.move_to_end(key)
            return cached.token.value
        exchange = self._exchanges.get(key)
        if exchange is None:
            exchange = asyncio.create_task(self._exchange(key, credential, http, provider))
            self._exchanges[key] = exchange
            exchange.add_done_callback(lambda done: self._exchange_ended(key, done))
        # Shielded: a caller that gives up must not cancel the exchange the others wait for.
        token = await asyncio.shield(exchange)
        return token.value

    def forget(self, credential: ProviderCredential) -> None:
        """Drop the credential's token (the API refused it: the next call gets a new one)."""
        self._tokens.pop(_cache_key(credential), None)

    async def _exchange(
        self, key: str, credential: ProviderCredential, http: ProviderClient, provider: str
    ) -> AccessToken:
        account = parse_service_account(service_account_of(credential))
        requested_at = self._clock()
        token = await exchange_for_access_token(account, http, provider=provider)
        renew_at = requested_at + token.expires_in_seconds - self._margin
        self._tokens[key] = _CachedToken(token, renew_at)
        self._tokens.move_to_end(key)
        while len(self._tokens) > MAX_CACHED_TOKENS:
            self._tokens.popitem(last=False)
        return token

    def _exchange_ended(self, key: str, exchange: asyncio.Task[AccessToken]) -> None:
        if self._exchanges.get(key) is exchange:
            del self._exchanges[key]
        if not exchange.cancelled():
            # Marks a failure as seen even when every caller has gone: no stray warning.
            exchange.exception()


def _cache_key(credential: ProviderCredential) -> str:
    key_file = service_account_of(credential).json_text.encode()
    return f"{credential.id}:{hashlib.sha256(key_file).hexdigest()}"
