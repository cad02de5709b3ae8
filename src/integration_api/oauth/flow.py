"""The authorization-code flow: start (state, PKCE S256, exact redirect URI) and finish.

`state` is 256 random bits, stored only as its SHA-256, bound to tenant, provider, connection
name, scopes, `redirect_after` and the PKCE verifier (sealed by the vault), valid for ten minutes
and consumed by the first callback that presents it. Finishing refuses, in this order: a missing
state, an unknown or already used one, an expired one, one issued for another provider's
callback (mix-up) or another tenant, a provider error, a missing code, a code the provider
refuses, and an account that differs from the one the connection belongs to.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from integration_api.call_context import current_request_id
from integration_api.config import OAuthSettings
from integration_api.errors import NotFound, ServiceError
from integration_api.oauth import client
from integration_api.oauth.callback_params import CallbackParams
from integration_api.oauth.completion import Completion, end_user
from integration_api.oauth.errors import (
    AuthorizationRefused,
    GrantRejected,
    TokenRequestRefused,
    reason_code,
)
from integration_api.oauth.provider import OAuthProvider
from integration_api.oauth.redirects import require_allowed
from integration_api.oauth.refusals import count_unmatched
from integration_api.oauth.registry import OAuthProviders
from integration_api.oauth.request_checks import (
    StartRequest,
    check_scopes_allowed,
    check_start_request,
)
from integration_api.oauth.tokens import TokenSet, open_verifier, seal_tokens, seal_verifier
from integration_api.principal import Principal, Tenant
from integration_api.providers.http_client import ProviderClient
from integration_api.store.audit import AuditLog
from integration_api.store.database import ConnectionPool
from integration_api.store.models import AuditEvent
from integration_api.store.oauth_connections import OAuthConnectionRepository
from integration_api.store.oauth_pending import PendingConnectionRepository
from integration_api.store.oauth_rows import (
    AuthorizedAccount,
    NewOAuthState,
    OAuthConnectionRow,
    PendingConnection,
)
from integration_api.store.oauth_states import OAuthStateRepository
from integration_api.vault import Envelope

log = structlog.get_logger("integration_api.oauth")

STATE_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class StartedAuthorization:
    authorization_url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class FinishedAuthorization:
    """How a callback ended: a connection, or the refusal; `redirect_after` once it is known."""

    connection: OAuthConnectionRow | None
    error: ServiceError | None
    redirect_after: str = ""
    # From the browser: the one-time code the starter's session completes the flow with.
    completion_code: str = field(default="", repr=False)


def state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


class AuthorizationFlow:
    def __init__(
        self,
        pool: ConnectionPool,
        envelope: Envelope,
        http: ProviderClient,
        providers: OAuthProviders,
        settings: OAuthSettings,
    ) -> None:
        self._envelope = envelope
        self._http = http
        self._providers = providers
        self._settings = settings
        self._audit = AuditLog(pool)
        self._states = OAuthStateRepository(pool, self._audit)
        self._connections = OAuthConnectionRepository(pool, self._audit)
        self._completion = Completion(
            PendingConnectionRepository(pool, self._audit),
            self._connections,
            envelope,
            http,
            providers,
        )

    async def start(self, principal: Principal, request: StartRequest) -> StartedAuthorization:
        check_start_request(request)
        provider = self._providers.get(request.provider)
        allowed = self._settings.scopes_allow(provider.name)
        check_scopes_allowed(request.scopes, allowed, provider.name)
        redirect_after = require_allowed(request.redirect_after, self._settings.redirect_allow)
        state = secrets.token_urlsafe(32)
        verifier = generate_token(64)
        hashed = state_hash(state)
        expires_at = datetime.now(UTC) + STATE_LIFETIME
        tenant = principal.tenant
        user_id = end_user(principal, request.user_id)
        ciphertext = seal_verifier(self._envelope, tenant, hashed.hex(), provider.name, verifier)
        pending = NewOAuthState(
            state_hash=hashed,
            tenant=tenant,
            actor=principal.actor,
            provider=provider.name,
            connection_name=request.connection_name,
            scopes=request.scopes,
            redirect_after=redirect_after,
            verifier_ciphertext=ciphertext,
            key_id=self._envelope.key_id_of(ciphertext),
            expires_at=expires_at,
            user_id=user_id,
        )
        audit = _event(principal.actor, tenant, "oauth.authorization.start", provider.name)
        await self._states.insert(pending, audit)
        url = prepare_grant_uri(
            provider.authorization_url,
            provider.client_id,
            "code",
            redirect_uri=self._providers.redirect_uri(provider.name),
            scope=list(request.scopes),
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
            **provider.authorization_extras,
        )
        return StartedAuthorization(authorization_url=url, state=state, expires_at=expires_at)

    async def finish(
        self,
        params: CallbackParams,
        *,
        provider: str | None = None,
        tenant: Tenant | None = None,
        user_id: str = "",
    ) -> FinishedAuthorization:
        """Finish one callback; refusals are returned, never raised. A refusal is audited
        when the state matched a pending authorization, else only counted (`refusals`).

        From the browser (no tenant) the consented tokens are parked for the completion step.
        From a platform that receives the callback itself, in the session of the user who
        started the flow (tenant and user matched before the state is consumed), the
        connection is stored at once.
        """
        pending: NewOAuthState | None = None
        try:
            pending = await self._take_state(params, tenant, user_id)
            _check_pending(pending, provider)
            if tenant is None and not pending.redirect_after:
                raise AuthorizationRefused(
                    "redirect_after_missing", "the flow named no redirect_after to complete at"
                )
            authorized, granted = await self._authorize(pending, params)
            if tenant is None:
                code = await self._park(pending, authorized, granted)
                return FinishedAuthorization(None, None, pending.redirect_after, code)
            row = await self._save(pending, authorized, granted)
            return FinishedAuthorization(row, None, pending.redirect_after)
        except ServiceError as error:
            await self._record_refusal(error, pending, provider)
            return FinishedAuthorization(None, error, pending.redirect_after if pending else "")

    async def complete(
        self, principal: Principal, user_id: str, completion_code: str
    ) -> OAuthConnectionRow:
        """The completion step: the starter's session makes its parked connection usable."""
        bound_user = end_user(principal, user_id)

        def audit_for(pending: PendingConnection, connection_id: str, created: bool) -> AuditEvent:
            account = pending.account
            action = "oauth.connection.create" if created else "oauth.connection.reauthorize"
            details: dict[str, object] = {
                "scopes": list(pending.tokens.scopes),
                "account_id": account.account_id,
            }
            return _event(
                principal.actor,
                account.tenant,
                action,
                account.provider,
                connection_id,
                details=details,
            )

        try:
            return await self._completion.complete(
                principal, bound_user, completion_code, audit_for
            )
        except NotFound:
            log.warning("oauth_completion_refused", reason="completion_unknown")
            raise

    async def expire_unclaimed(self) -> int:
        return await self._completion.expire_unclaimed()

    async def _take_state(
        self, params: CallbackParams, tenant: Tenant | None, user_id: str
    ) -> NewOAuthState:
        if not params.state:
            raise AuthorizationRefused("state_missing", "the callback carries no state")
        # Another tenant's (or user's) state is matched as absent, so it stays for its owner
        # and answers exactly like one that does not exist.
        pending = await self._states.consume(state_hash(params.state), tenant, user_id)
        if pending is None:
            raise AuthorizationRefused("state_unknown", "the state is unknown or already used")
        return pending

    async def _authorize(
        self, pending: NewOAuthState, params: CallbackParams
    ) -> tuple[AuthorizedAccount, TokenSet]:
        """Exchange the code and read whose account granted what; nothing is stored yet."""
        if params.error:
            reason = "access_denied" if params.error == "access_denied" else "provider_error"
            raise AuthorizationRefused(reason, "the provider did not grant access")
        if not params.code:
            raise AuthorizationRefused("code_missing", "the callback carries no code")
        provider = self._providers.get(pending.provider)
        tokens = await self._exchange(provider, pending, params.code)
        account = await provider.read_account(self._http, provider, tokens)
        # Google lets the user untick scopes: what was granted is what is stored.
        granted = tokens if tokens.scopes else _with_scopes(tokens, pending.scopes)
        authorized = AuthorizedAccount(
            tenant=pending.tenant,
            provider=provider.name,
            name=pending.connection_name,
            account_id=account.account_id,
            account_email=account.email,
            actor=pending.actor,
        )
        return authorized, granted

    async def _park(
        self, pending: NewOAuthState, authorized: AuthorizedAccount, granted: TokenSet
    ) -> str:
        audit = _event(
            pending.actor,
            pending.tenant,
            "oauth.authorization.consent",
            authorized.provider,
            details={"scopes": list(granted.scopes), "account_id": authorized.account_id},
        )
        return await self._completion.park(authorized, pending.user_id, granted, audit)

    async def _save(
        self, pending: NewOAuthState, authorized: AuthorizedAccount, granted: TokenSet
    ) -> OAuthConnectionRow:
        def audit_for(connection_id: str, created: bool) -> AuditEvent:
            action = "oauth.connection.create" if created else "oauth.connection.reauthorize"
            return _event(
                pending.actor,
                pending.tenant,
                action,
                authorized.provider,
                connection_id,
                details={"scopes": list(granted.scopes), "account_id": authorized.account_id},
            )

        return await self._connections.save_authorized(
            authorized,
            lambda connection_id: seal_tokens(
                self._envelope, pending.tenant, connection_id, authorized.provider, granted
            ),
            audit_for,
        )

    async def _exchange(
        self, provider: OAuthProvider, pending: NewOAuthState, code: str
    ) -> TokenSet:
        verifier = open_verifier(
            self._envelope,
            pending.tenant,
            pending.state_hash.hex(),
            provider.name,
            pending.verifier_ciphertext,
        )
        try:
            return await client.exchange_code(
                self._http,
                provider,
                code=code,
                verifier=verifier,
                redirect_uri=self._providers.redirect_uri(provider.name),
            )
        except (GrantRejected, TokenRequestRefused):
            raise AuthorizationRefused(
                "code_rejected", "the provider refused the code (expired, used or not ours)"
            ) from None

    async def refuse(self, error: ServiceError, provider: str) -> None:
        """Count a callback refused before its state was looked at."""
        await self._record_refusal(error, None, provider)

    async def _record_refusal(
        self, error: ServiceError, pending: NewOAuthState | None, provider: str | None
    ) -> None:
        reason = reason_code(error)
        if pending is None:
            # Matched no pending authorization: anyone can send that, so it is counted and
            # logged sampled, never audited.
            count_unmatched(reason, provider=provider or "")
            return
        log.warning("oauth_authorization_refused", reason=reason, provider=pending.provider)
        event = _event(
            pending.actor,
            pending.tenant,
            "oauth.authorization.complete",
            pending.provider,
            outcome="failure",
            details={"reason": reason},
        )
        try:
            await self._audit.record(event)
        except Exception:  # noqa: BLE001 - the refusal stands even when it cannot be recorded
            log.warning("oauth_refusal_not_audited", reason=reason)


def _check_pending(pending: NewOAuthState, provider: str | None) -> None:
    if pending.expires_at <= datetime.now(UTC):
        raise AuthorizationRefused("state_expired", "the authorization took too long")
    if provider is not None and pending.provider != provider:
        raise AuthorizationRefused(
            "state_provider_mismatch", "the state was issued for another provider"
        )


def _with_scopes(tokens: TokenSet, scopes: tuple[str, ...]) -> TokenSet:
    return TokenSet(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_type=tokens.token_type,
        scopes=tuple(sorted(set(scopes))),
        expires_at=tokens.expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
    )


def _event(
    actor: str,
    tenant: Tenant,
    action: str,
    provider: str,
    target_id: str = "",
    *,
    outcome: str = "success",
    details: dict[str, object] | None = None,
) -> AuditEvent:
    return AuditEvent(
        actor=actor,
        tenant=tenant,
        action=action,
        target_type="oauth_connection",
        target_id=target_id,
        outcome=outcome,
        request_id=current_request_id(),
        details={"provider": provider, **(details or {})},  # type: ignore[dict-item]
    )
