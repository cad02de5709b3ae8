"""GitHub: OAuth Apps (tokens that never expire) and GitHub Apps (8-hour tokens with
single-use refresh tokens), the `/user` and `/user/emails` API, and grant revocation.

GitHub's token endpoint answers most refusals with HTTP 200 and an `error` field, which the
token client checks on every answer. The account id is GitHub's numeric user id (a login can be
renamed); the email comes from `/user/emails` when the profile keeps it private.
"""

from __future__ import annotations

from integration_api.config import OAuthClientSettings
from integration_api.errors import ServiceError, Unavailable
from integration_api.oauth.provider import (
    Account,
    OAuthProvider,
    basic_authorization,
    endpoint,
)
from integration_api.oauth.tokens import TokenSet
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.identity.provider import GITHUB_OAUTH
from integration_api.providers.transport import get_json, send_json

NAME = "github"
EGRESS_ID = GITHUB_OAUTH.id
AUTHORIZATION_URL = "https://github.com/login/oauth/authorize"
TOKEN_URL = "https://github.com/login/oauth/access_token"
USER_URL = "https://api.github.com/user"
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def _headers(tokens: TokenSet) -> dict[str, str]:
    return {**API_HEADERS, "Authorization": f"Bearer {tokens.access_token}"}


async def read_account(http: ProviderClient, provider: OAuthProvider, tokens: TokenSet) -> Account:
    secrets = (tokens.access_token,)
    user = (
        await get_json(
            http,
            provider.userinfo_url,
            provider=provider.egress_id,
            headers=_headers(tokens),
            secrets=secrets,
        )
    ).body
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise Unavailable("github /user did not name the account", provider=NAME)
    email = user.get("email")
    if not isinstance(email, str) or not email:
        email = await _primary_email(http, provider, tokens)
    return Account(account_id=str(user["id"]), email=email)


async def _primary_email(http: ProviderClient, provider: OAuthProvider, tokens: TokenSet) -> str:
    """The primary verified address; "" when the grant lacks `user:email` or there is none."""
    try:
        response = await get_json(
            http,
            provider.userinfo_url + "/emails",
            provider=provider.egress_id,
            headers=_headers(tokens),
            secrets=(tokens.access_token,),
        )
    except ServiceError:
        return ""
    for entry in response.body if isinstance(response.body, list) else []:
        if isinstance(entry, dict) and entry.get("primary") and entry.get("verified"):
            address = entry.get("email")
            return address if isinstance(address, str) else ""
    return ""


async def revoke(http: ProviderClient, provider: OAuthProvider, tokens: TokenSet) -> None:
    """Delete the whole grant (every token of this user for this app), as a disconnect means."""
    await send_json(
        http,
        "DELETE",
        provider.revoke_url,
        provider=provider.egress_id,
        headers={
            **API_HEADERS,
            "Authorization": basic_authorization(provider.client_id, provider.client_secret),
        },
        json_body={"access_token": tokens.access_token},
        secrets=(tokens.access_token, provider.client_secret),
    )


def github_provider(settings: OAuthClientSettings) -> OAuthProvider:
    default_revoke = f"https://api.github.com/applications/{settings.client_id}/grant"
    return OAuthProvider(
        name=NAME,
        egress_id=EGRESS_ID,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        authorization_url=endpoint(settings.authorization_url, AUTHORIZATION_URL),
        token_url=endpoint(settings.token_url, TOKEN_URL),
        userinfo_url=endpoint(settings.userinfo_url, USER_URL),
        revoke_url=endpoint(settings.revoke_url, default_revoke),
        authorization_extras={},
        read_account=read_account,
        revoke=revoke,
    )
