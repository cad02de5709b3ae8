"""The browser leg end to end: Start → authorization server → callback shim → redirect_after,
and what the authorization URL carries (O2)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from integration_api_proto.integration.v1 import (
    ConnectionStatus,
    GetAccessTokenRequest,
    ListConnectionsRequest,
)

from tests.oauth.support import OAuthWorld, landed


@pytest.mark.parametrize("provider", ["google", "github"])
async def test_authorization_url_always_sends_s256_state_and_the_exact_redirect_uri(
    oauth: OAuthWorld, provider: str
) -> None:
    started = await oauth.start(provider, f"o2-{provider}")
    query = {k: v for k, v in parse_qs(urlsplit(started.authorization_url).query).items()}
    assert all(len(values) == 1 for values in query.values())
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["state"] == [started.state]
    assert query["redirect_uri"] == [f"{oauth.callback_url}/{provider}"]
    assert query["response_type"] == ["code"]
    google_extras = {"access_type": ["offline"], "prompt": ["consent"]}
    if provider == "google":
        assert google_extras.items() <= query.items()
    else:
        assert not set(google_extras) & set(query)


@pytest.mark.parametrize("provider", ["google", "github"])
async def test_a_browser_consents_and_the_starting_users_session_completes_the_connection(
    oauth: OAuthWorld, provider: str
) -> None:
    name = f"e2e-{provider}"
    started = await oauth.start(provider, name)
    landing = await oauth.browse(started.authorization_url)
    assert landing.status_code == 200
    outcome = landed(landing)
    assert outcome["status"] == "authorized"
    assert set(outcome) == {"status", "completion_code"}
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(provider=provider), metadata=oauth.service.auth()
    )
    assert name not in {c.name for c in listed.connections}  # nothing usable before completion
    completed = await oauth.complete(outcome["completion_code"])
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(provider=provider), metadata=oauth.service.auth()
    )
    connection = next(c for c in listed.connections if c.id == completed.id)
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.account_id == "4242"
    assert connection.account_email == "octo@example.com"
    token = await oauth.stub.get_access_token(
        GetAccessTokenRequest(connection_id=connection.id), metadata=oauth.service.auth()
    )
    assert oauth.fake(provider).live_token(token.access_token) is not None


async def test_the_callback_pages_leak_no_referrer_and_are_not_cached(oauth: OAuthWorld) -> None:
    started = await oauth.start("google", "headers")
    callback = await oauth.authorize_code(started)
    async with __import__("httpx").AsyncClient() as browser:
        answer = await browser.get(callback)
    assert answer.status_code == 302
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    assert "at-" not in answer.headers["location"]
