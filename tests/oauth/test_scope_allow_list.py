"""Tenants may request only the scopes the operator lists per provider
(`OAUTH_GOOGLE_SCOPES_ALLOW`, `OAUTH_GITHUB_SCOPES_ALLOW`); anything else is refused before a
state is stored, so no authorization link for it ever exists."""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from integration_api.config import load_settings
from tests.oauth.support import OAuthWorld


async def _states_named(dsn: str, name: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM oauth_states WHERE connection_name = $1", name
            )
        )
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("provider", "scopes"),
    [
        ("google", ["openid", "https://mail.google.com/"]),
        ("google", ["https://www.googleapis.com/auth/calendar"]),
        ("github", ["repo"]),
        ("github", ["user:email", "admin:org"]),
    ],
)
async def test_a_scope_off_the_providers_allow_list_is_refused_at_start(
    oauth: OAuthWorld, package_database_dsn: str, provider: str, scopes: list[str]
) -> None:
    name = f"wide-{provider}-{len(scopes)}"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.start(provider, name, scopes=scopes)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = raised.value.details() or ""
    assert details.startswith("scopes:")
    assert scopes[-1] in details
    assert f"OAUTH_{provider.upper()}_SCOPES_ALLOW" in details
    assert await _states_named(package_database_dsn, name) == 0


async def test_a_scope_on_the_allow_list_starts_the_flow(oauth: OAuthWorld) -> None:
    started = await oauth.start("google", "narrow-ok", scopes=["openid", "email", "profile"])
    assert started.state


def test_the_allow_lists_default_to_identity_and_read_only_scopes() -> None:
    oauth = load_settings({}).oauth
    assert "https://mail.google.com/" not in oauth.scopes_allow("google")
    assert "https://www.googleapis.com/auth/calendar.readonly" in oauth.scopes_allow("google")
    assert set(oauth.scopes_allow("github")) == {"read:user", "user:email"}


def test_operators_list_scopes_comma_or_space_separated() -> None:
    oauth = load_settings(
        {
            "OAUTH_GOOGLE_SCOPES_ALLOW": "openid, https://mail.google.com/",
            "OAUTH_GITHUB_SCOPES_ALLOW": "repo  read:user",
        }
    ).oauth
    assert oauth.scopes_allow("google") == ("openid", "https://mail.google.com/")
    assert oauth.scopes_allow("github") == ("repo", "read:user")
