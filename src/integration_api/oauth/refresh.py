"""Access tokens on demand: refreshed ahead of expiry, once per connection across replicas.

In a process, callers wanting the same connection share one refresh task. Across replicas, the
connection's advisory lock admits one refresher at a time; whoever gets it re-reads the row and
returns the tokens another replica just stored instead of refreshing again. New tokens are
written (with retries) before anyone receives them, so a rotating refresh token is never
handed out unsaved. A refresh the provider refuses (`invalid_grant`, `bad_refresh_token`) first
re-reads the row — a reconnect may have replaced the tokens meanwhile — and only then marks the
connection REAUTHORIZATION_REQUIRED, for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import structlog

from integration_api.call_context import current_request_id
from integration_api.errors import FailedPrecondition, NotFound, Unavailable
from integration_api.oauth import client
from integration_api.oauth.errors import GrantRejected, ReauthorizationRequired
from integration_api.oauth.metrics import count_refresh
from integration_api.oauth.registry import OAuthProviders
from integration_api.oauth.tokens import TokenSet, open_tokens, seal_tokens
from integration_api.principal import Tenant
from integration_api.providers.http_client import ProviderClient
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_connections import OAuthConnectionRepository
from integration_api.store.oauth_refresh_session import RefreshSession
from integration_api.store.oauth_rows import OAuthConnectionRow, SealedTokens
from integration_api.vault import Envelope

log = structlog.get_logger("integration_api.oauth")

Issued = tuple[TokenSet, OAuthConnectionRow]
# Decides, with the row as re-read under the lock, whether it still needs a refresh.
NeedsRefresh = Callable[[OAuthConnectionRow], bool]


def require_usable(row: OAuthConnectionRow) -> None:
    if row.status == "reauthorization_required":
        raise ReauthorizationRequired()
    if row.status != "active" or row.token_ciphertext is None:
        raise FailedPrecondition("the connection is revoked", reason="CONNECTION_REVOKED")


class TokenRefresher:
    def __init__(
        self,
        connections: OAuthConnectionRepository,
        envelope: Envelope,
        http: ProviderClient,
        providers: OAuthProviders,
        margin: timedelta,
    ) -> None:
        self._connections = connections
        self._envelope = envelope
        self._http = http
        self._providers = providers
        self._margin = margin
        self._in_flight: dict[str, asyncio.Task[Issued]] = {}
        # Refreshed tokens the database would not take, sealed, by connection id, with the row
        # version they replace. A rotating provider has already voided the old refresh token, so
        # these are the connection's only working ones: the next refresh stores them first.
        self._unsaved: dict[str, tuple[int, SealedTokens]] = {}

    def expiring(self, row: OAuthConnectionRow) -> bool:
        expires_at = row.access_token_expires_at
        return expires_at is not None and expires_at - datetime.now(UTC) < self._margin

    async def access_token(self, tenant: Tenant, connection_id: str) -> Issued:
        row = await self._connections.get(tenant, connection_id)
        require_usable(row)
        if not self.expiring(row):
            return open_tokens(self._envelope, row), row
        return await self.refresh(row.id, self.expiring, trigger="on_demand")

    async def refresh(
        self, connection_id: str, needs_refresh: NeedsRefresh, trigger: str
    ) -> Issued:
        """One refresh task per connection in this process; every caller awaits the same."""
        task = self._in_flight.get(connection_id)
        if task is None:
            task = asyncio.ensure_future(
                self._refresh_locked(connection_id, needs_refresh, trigger)
            )
            self._in_flight[connection_id] = task
            task.add_done_callback(lambda _: self._in_flight.pop(connection_id, None))
        # A caller that gives up must not cancel the refresh the others are waiting for.
        return await asyncio.shield(task)

    async def _refresh_locked(
        self, connection_id: str, needs_refresh: NeedsRefresh, trigger: str
    ) -> Issued:
        async with self._connections.refresh_session(connection_id) as session:
            row = await _read(session)
            require_usable(row)
            unsaved = self._unsaved.pop(connection_id, None)
            if unsaved is not None and unsaved[0] == row.version:
                return await self._store_unsaved(session, row, unsaved[1], trigger)
            current = open_tokens(self._envelope, row)
            if not needs_refresh(row):
                return current, row
            if not current.refresh_token:
                return await self._expired_without_refresh_token(session, row, current, trigger)
            provider = self._providers.get(row.provider)
            try:
                fresh = await client.refresh(self._http, provider, current.refresh_token)
            except GrantRejected:
                return await self._after_rejection(session, row, trigger)
            except Exception:
                count_refresh(row.provider, trigger, "failed")
                raise
            return await self._store(session, row, fresh.carry_over(current), trigger)

    async def _store(
        self, session: RefreshSession, row: OAuthConnectionRow, tokens: TokenSet, trigger: str
    ) -> Issued:
        sealed = seal_tokens(self._envelope, row.tenant, row.id, row.provider, tokens)
        stored = await self._write(session, row, sealed, trigger)
        count_refresh(row.provider, trigger, "refreshed")
        if stored is None:
            # Reconnected or revoked while we refreshed: what is stored now wins.
            latest = await _read(session)
            require_usable(latest)
            return open_tokens(self._envelope, latest), latest
        return tokens, stored

    async def _store_unsaved(
        self, session: RefreshSession, row: OAuthConnectionRow, sealed: SealedTokens, trigger: str
    ) -> Issued:
        """Store the tokens an earlier refresh could not, instead of refreshing again."""
        stored = await self._write(session, row, sealed, trigger)
        log.info("oauth_unsaved_tokens_stored", connection_id=row.id)
        latest = stored if stored is not None else await _read(session)
        require_usable(latest)
        return open_tokens(self._envelope, latest), latest

    async def _write(
        self, session: RefreshSession, row: OAuthConnectionRow, sealed: SealedTokens, trigger: str
    ) -> OAuthConnectionRow | None:
        audit = _event(row, "oauth.connection.refresh", {"trigger": trigger})
        try:
            return await session.store_refreshed(row.version, sealed, audit)
        except Exception:  # noqa: BLE001 - any failure to store is reported the same way
            self._unsaved[row.id] = (row.version, sealed)
            count_refresh(row.provider, trigger, "failed")
            log.error("oauth_refreshed_tokens_not_stored", connection_id=row.id)
            raise Unavailable(
                "the refreshed tokens could not be stored yet; they are kept and stored on the "
                "next call: try again",
                reason="OAUTH_TOKENS_NOT_STORED",
            ) from None

    async def _after_rejection(
        self, session: RefreshSession, row: OAuthConnectionRow, trigger: str
    ) -> Issued:
        latest = await _read(session)
        if latest.version != row.version and latest.status == "active":
            # Someone stored other tokens while ours was being refused: those are the answer.
            require_usable(latest)
            return open_tokens(self._envelope, latest), latest
        await self._require_reauthorization(session, row, "the provider refused the refresh token")
        count_refresh(row.provider, trigger, "reauthorization_required")
        raise ReauthorizationRequired()

    async def _expired_without_refresh_token(
        self, session: RefreshSession, row: OAuthConnectionRow, tokens: TokenSet, trigger: str
    ) -> Issued:
        if row.access_token_expires_at and row.access_token_expires_at > datetime.now(UTC):
            return tokens, row
        await self._require_reauthorization(session, row, "the access token expired")
        count_refresh(row.provider, trigger, "reauthorization_required")
        raise ReauthorizationRequired()

    async def _require_reauthorization(
        self, session: RefreshSession, row: OAuthConnectionRow, reason: str
    ) -> None:
        audit = _event(row, "oauth.connection.reauthorization_required", {"reason": reason})
        await session.set_status(row.version, "reauthorization_required", reason, audit)
        log.warning("oauth_reauthorization_required", connection_id=row.id, provider=row.provider)


async def _read(session: RefreshSession) -> OAuthConnectionRow:
    row = await session.read()
    if row is None:
        raise NotFound("connection not found")
    return row


def _event(row: OAuthConnectionRow, action: str, details: dict[str, str]) -> AuditEvent:
    return AuditEvent(
        actor="service:integration-api",
        tenant=row.tenant,
        action=action,
        target_type="oauth_connection",
        target_id=row.id,
        request_id=current_request_id(),
        details={"provider": row.provider, **details},
    )


WaitFor = Callable[[], Awaitable[None]]
