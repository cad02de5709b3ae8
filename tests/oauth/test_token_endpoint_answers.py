"""What the token endpoint answers decides what the browser is told: a lifetime outside one
second to a year is a bad provider response (never a token that does not expire), and a
permanent refusal is a refusal, never "upstream unavailable"."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import GetAccessTokenRequest, ListConnectionsRequest

from tests.oauth.database import expire_in, fetchval
from tests.oauth.support import OAuthWorld, landed


async def _names(oauth: OAuthWorld) -> set[str]:
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(), metadata=oauth.service.auth()
    )
    return {connection.name for connection in listed.connections}


@pytest.mark.parametrize(
    "expires_in", ["-1e12", "1e300", '"abc"', "Infinity", "-Infinity", "0", "true", "1" * 400]
)
async def test_a_token_lifetime_out_of_range_is_a_bad_provider_response(
    oauth: OAuthWorld, expires_in: str
) -> None:
    oauth.google.behaviour.expires_in_json = expires_in
    name = f"lifetime-{len(expires_in)}-" + "".join(c for c in expires_in[:6] if c.isalnum())
    landing = await oauth.browse((await oauth.start("google", name)).authorization_url)
    assert landed(landing) == {"status": "error", "reason": "provider_bad_response"}
    assert name not in await _names(oauth)


async def test_a_refresh_answering_a_lifetime_out_of_range_stores_nothing(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    connection_id = await oauth.connect("google", "refresh-lifetime")
    await expire_in(package_database_dsn, connection_id, -60)
    expiry = "SELECT access_token_expires_at FROM oauth_connections WHERE id = $1"
    expired_at = await fetchval(package_database_dsn, expiry, connection_id)
    oauth.google.behaviour.expires_in_json = "-1e12"
    request = GetAccessTokenRequest(connection_id=connection_id)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.stub.get_access_token(request, metadata=oauth.service.auth())
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert await fetchval(package_database_dsn, expiry, connection_id) == expired_at
    oauth.google.behaviour.expires_in_json = None
    refreshed = await oauth.stub.get_access_token(request, metadata=oauth.service.auth())
    assert refreshed.expires_at is not None


@pytest.mark.parametrize("expires_in", ["3599", '"3600"', "null"])
async def test_a_plausible_or_absent_token_lifetime_is_accepted(
    oauth: OAuthWorld, expires_in: str
) -> None:
    oauth.google.behaviour.expires_in_json = expires_in
    name = "lifetime-ok-" + "".join(c for c in expires_in if c.isalnum())
    assert await oauth.connect("google", name)


@pytest.mark.parametrize(
    ("provider", "answer", "reason"),
    [
        ("google", (400, {"error": "invalid_grant"}), "code_rejected"),
        ("google", (400, {"error": "invalid_request"}), "code_rejected"),
        ("google", (400, {"error": "invalid_scope"}), "code_rejected"),
        ("google", (403, {"error": "access_denied"}), "code_rejected"),
        ("google", (401, {"error": "invalid_client"}), "client_misconfigured"),
        ("google", (400, {"error": "invalid_client"}), "client_misconfigured"),
        ("github", (200, {"error": "redirect_uri_mismatch"}), "code_rejected"),
        ("github", (200, {"error": "unverified_user_email"}), "code_rejected"),
        ("github", (200, {"error": "incorrect_client_credentials"}), "client_misconfigured"),
    ],
)
async def test_a_permanent_token_endpoint_refusal_reaches_the_browser_as_a_refusal(
    oauth: OAuthWorld, provider: str, answer: tuple[int, dict[str, Any]], reason: str
) -> None:
    oauth.fake(provider).behaviour.token_answer = answer
    landing = await oauth.browse((await oauth.start(provider, "refused-grant")).authorization_url)
    assert landed(landing) == {"status": "error", "reason": reason}


@pytest.mark.parametrize("status", [500, 502, 503, 429])
async def test_only_a_provider_that_cannot_answer_now_is_unavailable(
    oauth: OAuthWorld, status: int
) -> None:
    oauth.google.behaviour.token_answer = (status, {"error": "backend_error"})
    landing = await oauth.browse((await oauth.start("google", "unavailable")).authorization_url)
    assert landed(landing)["status"] == "error"
    assert landed(landing)["reason"] in {"upstream_unavailable", "rate_limited"}
