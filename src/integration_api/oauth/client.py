"""Token-endpoint calls: authlib builds the OAuth 2.0 requests, the shared transport sends them.

authlib never opens a connection here: its request builders (`prepare_token_request`, client
authentication) produce the body and headers, `send_json` sends them under the provider's
egress id, and every answer — including a GitHub `200` that carries `error` — is checked here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from integration_api.errors import ServiceError, Unavailable
from integration_api.oauth.errors import ClientMisconfigured, GrantRejected, TokenRequestRefused
from integration_api.oauth.provider import OAuthProvider
from integration_api.oauth.tokens import TokenSet
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import ErrorResponse
from integration_api.providers.token_lifetime import lifetime_seconds
from integration_api.providers.transport import send_json

# Google caps access tokens at 2 KiB and refresh tokens at 512 B; anything far beyond is not a
# token worth storing.
MAX_TOKEN_LENGTH = 8192

# `invalid_grant` (RFC 6749), GitHub's names for the same: the grant itself is dead.
_GRANT_ERRORS = {"invalid_grant", "bad_refresh_token", "bad_verification_code"}
# Our client id or secret is wrong: an operator's problem, never the user's connection.
_CLIENT_ERRORS = {"invalid_client", "unauthorized_client", "incorrect_client_credentials"}
# 4xx answers that say "not now" rather than "no": the generic table keeps them retryable.
_TRANSIENT_4XX = {408, 409, 429, 499}


async def exchange_code(
    http: ProviderClient,
    provider: OAuthProvider,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
) -> TokenSet:
    body = prepare_token_request(
        "authorization_code", redirect_uri=redirect_uri, code=code, code_verifier=verifier
    )
    return await _token_request(http, provider, body, secrets=(code, verifier))


async def refresh(http: ProviderClient, provider: OAuthProvider, refresh_token: str) -> TokenSet:
    body = prepare_token_request("refresh_token", refresh_token=refresh_token)
    return await _token_request(http, provider, body, secrets=(refresh_token,))


async def _token_request(
    http: ProviderClient, provider: OAuthProvider, body: str, *, secrets: tuple[str, ...]
) -> TokenSet:
    auth = ClientAuth(provider.client_id, provider.client_secret, "client_secret_post")
    headers = {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    url, headers, body = auth.prepare("POST", provider.token_url, headers, body)
    response = await send_json(
        http,
        "POST",
        url,
        provider=provider.egress_id,
        headers=headers,
        content=body.encode(),
        secrets=(*secrets, *provider.secrets),
        classify_error=lambda answer: classify_token_error(provider.name, answer),
    )
    return parse_token_response(provider.name, response.body)


def classify_token_error(provider: str, response: ErrorResponse) -> ServiceError | None:
    """A grant or client refusal by its OAuth `error`; anything else to the generic table."""
    error = _error_field(response.body)
    if error in _GRANT_ERRORS:
        return GrantRejected(provider)
    if error in _CLIENT_ERRORS or response.status_code == 401:
        return ClientMisconfigured(provider)
    status = response.status_code
    if (status == 200 and error) or (400 <= status < 500 and status not in _TRANSIENT_4XX):
        return TokenRequestRefused(provider)
    return None


def _error_field(body: object) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return ""


def parse_token_response(provider: str, body: object) -> TokenSet:
    """The tokens of a successful-looking answer, which may still be a refusal (GitHub 200)."""
    error = _error_field(body)
    if error:
        raise classify_token_error(provider, ErrorResponse(provider, 200, {}, body)) or (
            TokenRequestRefused(provider)
        )
    if not isinstance(body, dict):
        raise _invalid(provider)
    access_token = body.get("access_token")
    refresh_token = body.get("refresh_token") or ""
    if not _plausible_token(access_token) or not isinstance(refresh_token, str):
        raise _invalid(provider)
    if refresh_token and not _plausible_token(refresh_token):
        raise _invalid(provider)
    now = datetime.now(UTC)
    return TokenSet(
        access_token=str(access_token),
        refresh_token=refresh_token,
        token_type=str(body.get("token_type") or "Bearer"),
        scopes=_scopes(body.get("scope")),
        expires_at=_after(now, lifetime_seconds(provider, body.get("expires_in"))),
        refresh_expires_at=_after(
            now, lifetime_seconds(provider, body.get("refresh_token_expires_in"))
        ),
    )


def _plausible_token(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_LENGTH


def _invalid(provider: str) -> Unavailable:
    error = Unavailable(
        f"{provider} answered the token request without a usable token", provider=provider
    )
    error.reason = "OAUTH_TOKEN_RESPONSE_INVALID"
    return error


def _scopes(value: Any) -> tuple[str, ...]:
    """Granted scopes: space-separated (RFC 6749), comma-separated at GitHub."""
    if not isinstance(value, str):
        return ()
    return tuple(sorted({scope for scope in value.replace(",", " ").split() if scope}))


def _after(now: datetime, seconds: float | None) -> datetime | None:
    return None if seconds is None else now + timedelta(seconds=seconds)
