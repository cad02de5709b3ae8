"""The completion step: a consented flow becomes a usable connection only when the user who
started it says so (RFC 9700 §4.7: the browser that finishes consent must be the one that began).

The callback does not store a connection. It parks the exchanged tokens, sealed, under the hash
of a one-time completion code (256 random bits) and sends the browser to `redirect_after` with
that code. The platform, from the user's authenticated session, presents the code with
`CompleteAuthorization`; the claim matches tenant, user (when the flow was started for one) and
expiry in one statement, so a link sent to someone else ends in a code that only that someone
holds and that only the starter's session can redeem. A wrong caller finds nothing, exactly as
for an unknown code, and leaves the code for its owner. Unclaimed tokens expire with the code;
`expire_unclaimed` deletes them and revokes their grant at the provider.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from integration_api.errors import InvalidArgument, NotFound, ServiceError
from integration_api.oauth.errors import AuthorizationRefused
from integration_api.oauth.registry import OAuthProviders
from integration_api.oauth.tokens import TokenSet, open_sealed, pending_binding, seal_tokens
from integration_api.principal import Principal
from integration_api.providers.http_client import ProviderClient
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_connections import OAuthConnectionRepository
from integration_api.store.oauth_pending import PendingConnectionRepository
from integration_api.store.oauth_rows import (
    AuthorizedAccount,
    OAuthConnectionRow,
    PendingConnection,
)
from integration_api.vault import Envelope

log = structlog.get_logger("integration_api.oauth")

# As long as a state lives: the user is still at the browser that just came back.
PENDING_LIFETIME = timedelta(minutes=10)
# Codes are 43 characters; anything much longer is not one of ours and is not hashed.
MAX_CODE_LENGTH = 128
MAX_USER_ID_LENGTH = 200
EXPIRE_BATCH = 100

# The audit event of a completed connection: the pending flow, the connection id, and whether
# the connection was created (else re-authorized).
AuditFor = Callable[[PendingConnection, str, bool], AuditEvent]


def code_hash(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


def end_user(principal: Principal, requested: str) -> str:
    """The end user a flow is bound to: the `user_id` the platform names, else the token's
    canonical identity (its `sub`, else its `userId`: the one identity every audited act uses).

    A token that names a user cannot act for another one.
    """
    if len(requested) > MAX_USER_ID_LENGTH or not requested.isprintable():
        raise InvalidArgument.for_field(
            "user_id", f"at most {MAX_USER_ID_LENGTH} printable characters"
        )
    if principal.identity and requested and requested != principal.identity:
        raise InvalidArgument.for_field("user_id", "differs from the user the token names")
    return requested or principal.identity


class Completion:
    def __init__(
        self,
        pending: PendingConnectionRepository,
        connections: OAuthConnectionRepository,
        envelope: Envelope,
        http: ProviderClient,
        providers: OAuthProviders,
    ) -> None:
        self._pending = pending
        self._connections = connections
        self._envelope = envelope
        self._http = http
        self._providers = providers

    async def park(
        self, account: AuthorizedAccount, user_id: str, tokens: TokenSet, audit: AuditEvent
    ) -> str:
        """Keep consented tokens until the flow's starter completes it; returns the code."""
        existing = await self._pending.existing_account(
            account.tenant, account.provider, account.name
        )
        if existing is not None and existing != account.account_id:
            raise AuthorizationRefused(
                "account_mismatch",
                "the account that authorized differs from the one this connection belongs to",
            )
        code = secrets.token_urlsafe(32)
        hashed = code_hash(code)
        sealed = seal_tokens(
            self._envelope, account.tenant, pending_binding(hashed), account.provider, tokens
        )
        expires_at = datetime.now(UTC) + PENDING_LIFETIME
        await self._pending.park(
            PendingConnection(hashed, account, user_id, sealed, expires_at), audit
        )
        return code

    async def complete(
        self, principal: Principal, user_id: str, code: str, audit_for: AuditFor
    ) -> OAuthConnectionRow:
        """Make the caller's pending connection usable; NOT_FOUND for any code not theirs."""
        pending = None
        if len(code) <= MAX_CODE_LENGTH:
            pending = await self._pending.claim(code_hash(code), principal.tenant, user_id)
        if pending is None:
            raise NotFound(
                "the completion code is unknown, expired or already used",
                reason="OAUTH_COMPLETION_UNKNOWN",
            )
        account = pending.account
        tokens = self._open(pending)
        return await self._connections.save_authorized(
            account,
            lambda connection_id: seal_tokens(
                self._envelope, account.tenant, connection_id, account.provider, tokens
            ),
            lambda connection_id, created: audit_for(pending, connection_id, created),
        )

    def _open(self, pending: PendingConnection) -> TokenSet:
        """The parked tokens, opened under the binding of the pending row that holds them."""
        account = pending.account
        return open_sealed(
            self._envelope,
            account.tenant,
            pending_binding(pending.code_hash),
            account.provider,
            pending.tokens,
        )

    async def expire_unclaimed(self) -> int:
        """Delete unclaimed tokens past their time and revoke their grant; returns how many."""
        expired = await self._pending.expire(EXPIRE_BATCH)
        for pending, in_use in expired:
            # Revoking would also cut the live connection that holds the same account's grant.
            if not in_use:
                await self._revoke(pending)
        return len(expired)

    async def _revoke(self, pending: PendingConnection) -> None:
        account = pending.account
        try:
            provider = self._providers.get(account.provider)
            tokens = self._open(pending)
            await provider.revoke(self._http, provider, tokens)
        except (ServiceError, ValueError) as error:
            log.warning(
                "oauth_unclaimed_revoke_failed",
                provider=account.provider,
                error_type=type(error).__name__,
            )
