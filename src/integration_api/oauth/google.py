"""Google: the web-server flow, OpenID Connect userinfo and the revoke endpoint.

Google answers a refresh with `400 invalid_grant` for every way a refresh token dies (revoked,
unused for six months, a "Testing" app's 7-day limit, the 100-tokens-per-client limit), so the
token client treats it as final. A refresh token is only issued when consent is shown, hence
`access_type=offline` with `prompt=consent` on every (re)connect; PKCE's method defaults to
`plain` at Google unless `S256` is sent explicitly, which the flow always does.
"""

from __future__ import annotations

from urllib.parse import urlencode

from integration_api.config import OAuthClientSettings
from integration_api.errors import Unavailable
from integration_api.oauth.provider import Account, OAuthProvider, endpoint
from integration_api.oauth.tokens import TokenSet
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.identity.provider import GOOGLE_OAUTH
from integration_api.providers.transport import get_json, send_json

NAME = "google"
EGRESS_ID = GOOGLE_OAUTH.id
AUTHORIZATION_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"


async def read_account(http: ProviderClient, provider: OAuthProvider, tokens: TokenSet) -> Account:
    response = await get_json(
        http,
        provider.userinfo_url,
        provider=provider.egress_id,
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        secrets=(tokens.access_token,),
    )
    body = response.body
    if not isinstance(body, dict) or not isinstance(body.get("sub"), str) or not body["sub"]:
        raise Unavailable("google userinfo did not name the account", provider=NAME)
    email = body.get("email")
    return Account(account_id=body["sub"], email=email if isinstance(email, str) else "")


async def revoke(http: ProviderClient, provider: OAuthProvider, tokens: TokenSet) -> None:
    """One call revokes every scope the user granted the project, refresh token included."""
    token = tokens.refresh_token or tokens.access_token
    await send_json(
        http,
        "POST",
        provider.revoke_url,
        provider=provider.egress_id,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        content=urlencode({"token": token}).encode(),
        secrets=(token,),
    )


def google_provider(settings: OAuthClientSettings) -> OAuthProvider:
    return OAuthProvider(
        name=NAME,
        egress_id=EGRESS_ID,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        authorization_url=endpoint(settings.authorization_url, AUTHORIZATION_URL),
        token_url=endpoint(settings.token_url, TOKEN_URL),
        userinfo_url=endpoint(settings.userinfo_url, USERINFO_URL),
        revoke_url=endpoint(settings.revoke_url, REVOKE_URL),
        authorization_extras={"access_type": "offline", "prompt": "consent"},
        read_account=read_account,
        revoke=revoke,
    )
