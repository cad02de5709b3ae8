"""The OAuth operations the servicer and the callback shim call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, cast

import asyncpg
import structlog

from integration_api.call_context import current_request_id
from integration_api.config import OAuthSettings
from integration_api.database import Database
from integration_api.errors import ServiceError
from integration_api.oauth.flow import AuthorizationFlow
from integration_api.oauth.keepalive import KeepAlive
from integration_api.oauth.redirects import check_allow_list
from integration_api.oauth.refresh import TokenRefresher
from integration_api.oauth.registry import OAuthProviders
from integration_api.oauth.tokens import TokenSet, open_tokens
from integration_api.principal import Principal, Tenant
from integration_api.providers.http_client import ProviderClient
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_connections import OAuthConnectionRepository
from integration_api.store.oauth_rows import OAuthConnectionRow
from integration_api.store.pagination import PageTokens
from integration_api.vault import Envelope

if TYPE_CHECKING:
    from asyncpg.pool import PoolAcquireContext

    from integration_api.store.database import ConnectionPool

log = structlog.get_logger("integration_api.oauth")


class _DeferredPool:
    """Stands for the database's pool before it exists: the service starts (and reports
    NOT_SERVING) while the database is unreachable, so the pool is looked up per use."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def acquire(self) -> PoolAcquireContext[asyncpg.Record]:
        return self._database.pool.acquire()


@dataclass
class OAuthOperations:
    flow: AuthorizationFlow
    refresher: TokenRefresher
    keepalive: KeepAlive
    connections: OAuthConnectionRepository
    providers: OAuthProviders
    envelope: Envelope
    http: ProviderClient

    @classmethod
    def create(
        cls,
        database: Database,
        envelope: Envelope,
        http: ProviderClient,
        settings: OAuthSettings,
    ) -> OAuthOperations:
        check_allow_list(settings.redirect_allow)
        pool = cast("ConnectionPool", _DeferredPool(database))
        providers = OAuthProviders(settings)
        connections = OAuthConnectionRepository(pool)
        margin = timedelta(seconds=settings.refresh_margin_seconds)
        refresher = TokenRefresher(connections, envelope, http, providers, margin)
        flow = AuthorizationFlow(pool, envelope, http, providers, settings)
        interval = settings.keepalive_interval_seconds
        return cls(
            flow=flow,
            refresher=refresher,
            keepalive=KeepAlive(connections, refresher, interval, flow.expire_unclaimed),
            connections=connections,
            providers=providers,
            envelope=envelope,
            http=http,
        )

    async def access_token(self, tenant: Tenant, connection_id: str) -> TokenSet:
        tokens, _row = await self.refresher.access_token(tenant, connection_id)
        return tokens

    async def list(
        self, tenant: Tenant, *, provider: str, page_size: int, page_token: str
    ) -> tuple[list[OAuthConnectionRow], str]:
        return await self.connections.list(
            tenant,
            provider=provider,
            page_size=page_size,
            page_token=page_token,
            tokens=PageTokens(self.envelope.keyring),
        )

    async def revoke(self, principal: Principal, connection_id: str) -> OAuthConnectionRow:
        """Revoke at the provider if it can be reached; the local tokens go in any case."""
        row = await self.connections.get(principal.tenant, connection_id)
        provider_revoked = False
        if row.token_ciphertext is not None:
            provider_revoked = await self._revoke_at_provider(row)
        audit = AuditEvent(
            actor=principal.actor,
            tenant=principal.tenant,
            action="oauth.connection.revoke",
            target_type="oauth_connection",
            target_id=row.id,
            request_id=current_request_id(),
            details={"provider": row.provider, "provider_revoked": provider_revoked},
        )
        reason = "revoked" if provider_revoked else "revoked here; the provider was not reached"
        return await self.connections.revoke(principal.tenant, row.id, reason, audit)

    async def _revoke_at_provider(self, row: OAuthConnectionRow) -> bool:
        try:
            provider = self.providers.get(row.provider)
            await provider.revoke(self.http, provider, open_tokens(self.envelope, row))
        except ServiceError as error:
            log.warning("oauth_provider_revoke_failed", connection_id=row.id, reason=error.reason)
            return False
        return True
