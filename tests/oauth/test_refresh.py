"""Access tokens: refreshed ahead of expiry and exactly once under concurrency (O3, O6), rotated
refresh tokens never lost (O4), refusals handled terminally or as configuration errors (O5)."""

from __future__ import annotations

import asyncio

import asyncpg
import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ConnectionStatus,
    GetAccessTokenRequest,
    GetAccessTokenResponse,
    ListConnectionsRequest,
)
from prometheus_client import REGISTRY

from integration_api.store import oauth_connections
from tests.oauth.database import expire_in, failing_token_writes, fetchval
from tests.oauth.support import OAuthWorld


async def _token(oauth: OAuthWorld, connection_id: str, **tenant: str) -> GetAccessTokenResponse:
    return await oauth.stub.get_access_token(
        GetAccessTokenRequest(connection_id=connection_id), metadata=oauth.service.auth(**tenant)
    )


async def _status(oauth: OAuthWorld, connection_id: str) -> ConnectionStatus:
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(page_size=500), metadata=oauth.service.auth()
    )
    return next(c.status for c in listed.connections if c.id == connection_id)


async def _refused(oauth: OAuthWorld, connection_id: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _token(oauth, connection_id)
    return raised.value


@pytest.mark.parametrize("provider", ["google", "github"])
async def test_fifty_concurrent_calls_on_an_expired_token_refresh_once(
    oauth: OAuthWorld, package_database_dsn: str, provider: str
) -> None:
    fake = oauth.fake(provider)
    connection_id = await oauth.connect(provider, f"o3-{provider}")
    await expire_in(package_database_dsn, connection_id, -60)
    fake.behaviour.token_delay_seconds = 0.2
    before = fake.refresh_grants
    answers = await asyncio.gather(*(_token(oauth, connection_id) for _ in range(50)))
    assert fake.refresh_grants - before == 1
    assert len({answer.access_token for answer in answers}) == 1
    assert fake.live_token(answers[0].access_token) is not None


async def test_a_token_expiring_within_the_margin_is_refreshed_before_use(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    connection_id = await oauth.connect("google", "o6-margin")
    first = await _token(oauth, connection_id)
    await expire_in(package_database_dsn, connection_id, 30 * 60)
    assert (await _token(oauth, connection_id)).access_token == first.access_token
    await expire_in(package_database_dsn, connection_id, 5 * 60)
    refreshed = await _token(oauth, connection_id)
    assert refreshed.access_token != first.access_token
    assert oauth.google.live_token(refreshed.access_token) is not None


async def test_idle_connections_are_refreshed_by_the_keepalive_within_a_day(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    connection_id = await oauth.connect("github", "o6-idle")
    first = await _token(oauth, connection_id)
    await fetchval(
        package_database_dsn,
        "UPDATE oauth_connections SET last_refreshed_at = now() - interval '25 hours' "
        "WHERE id = $1",
        connection_id,
    )
    labels = {"provider": "github", "trigger": "keepalive", "outcome": "refreshed"}
    counted = REGISTRY.get_sample_value("integration_api_oauth_refreshes_total", labels) or 0
    runtime = oauth.service.app.runtime
    assert runtime is not None
    assert await runtime.oauth_ops.keepalive.run_once() >= 1
    assert REGISTRY.get_sample_value("integration_api_oauth_refreshes_total", labels) == counted + 1
    assert oauth.github.live_token(first.access_token) is None  # rotated by the refresh
    assert oauth.github.live_token((await _token(oauth, connection_id)).access_token)
    assert await runtime.oauth_ops.keepalive.run_once() == 0  # refreshed now: not due again


async def test_github_oauth_app_tokens_never_expire_and_are_never_refreshed(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    oauth.github.use_shape("github_oauth_app")
    connection_id = await oauth.connect("github", "oauth-app")
    before = oauth.github.refresh_grants
    answer = await _token(oauth, connection_id)
    assert answer.expires_at is None
    assert (
        await fetchval(
            package_database_dsn,
            "SELECT has_refresh_token FROM oauth_connections WHERE id = $1",
            connection_id,
        )
        is False
    )
    assert oauth.github.refresh_grants == before


async def test_a_failed_write_after_a_rotating_refresh_is_retried_and_the_new_token_kept(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    connection_id = await oauth.connect("github", "o4-write")
    await expire_in(package_database_dsn, connection_id, -60)
    async with failing_token_writes(package_database_dsn, connection_id, failures=2):
        refreshed = await _token(oauth, connection_id)
    assert oauth.github.live_token(refreshed.access_token) is not None
    # The old refresh token is dead at GitHub: refreshing again works only if the new one
    # was stored.
    await expire_in(package_database_dsn, connection_id, -60)
    again = await _token(oauth, connection_id)
    assert again.access_token != refreshed.access_token
    assert await _status(oauth, connection_id) == ConnectionStatus.ACTIVE


async def test_a_refresh_refused_after_a_reconnect_returns_the_reconnected_tokens(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    connection_id = await oauth.connect("github", "o4-race")
    await expire_in(package_database_dsn, connection_id, -60)

    async def reconnect_first(refresh_token: str) -> None:
        oauth.github.behaviour.before_refresh = None
        assert await oauth.connect("github", "o4-race") == connection_id
        oauth.github.tokens[refresh_token].revoked = True  # the old grant is gone

    oauth.github.behaviour.before_refresh = reconnect_first
    answer = await _token(oauth, connection_id)
    assert oauth.github.live_token(answer.access_token) is not None
    assert await _status(oauth, connection_id) == ConnectionStatus.ACTIVE


@pytest.mark.parametrize("provider", ["google", "github"])
async def test_a_refused_refresh_token_requires_reauthorization_and_is_not_retried(
    oauth: OAuthWorld, package_database_dsn: str, provider: str
) -> None:
    fake = oauth.fake(provider)
    connection_id = await oauth.connect(provider, f"o5-grant-{provider}")
    for token in fake.tokens.values():
        token.revoked = True  # the user revoked access at the provider
    await expire_in(package_database_dsn, connection_id, -60)
    refused = await _refused(oauth, connection_id)
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "authorize again" in (refused.details() or "")
    assert await _status(oauth, connection_id) == ConnectionStatus.REAUTHORIZATION_REQUIRED
    calls = fake.refresh_grants
    assert (await _refused(oauth, connection_id)).code() == grpc.StatusCode.FAILED_PRECONDITION
    assert fake.refresh_grants == calls


@pytest.mark.parametrize(
    ("provider", "github_status"), [("google", 200), ("github", 200), ("github", 401)]
)
async def test_wrong_client_credentials_are_a_configuration_error_that_spares_the_connection(
    oauth: OAuthWorld, package_database_dsn: str, provider: str, github_status: int
) -> None:
    fake = oauth.fake(provider)
    connection_id = await oauth.connect(provider, f"o5-client-{provider}-{github_status}")
    await expire_in(package_database_dsn, connection_id, -60)
    fake.behaviour.github_bad_credentials_status = github_status
    secret = fake.client.client_secret
    fake.client.client_secret = "rotated-at-the-provider"
    try:
        refused = await _refused(oauth, connection_id)
    finally:
        fake.client.client_secret = secret
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "CLIENT_SECRET" in (refused.details() or "")
    assert await _status(oauth, connection_id) == ConnectionStatus.ACTIVE
    assert fake.live_token((await _token(oauth, connection_id)).access_token) is not None


@pytest.mark.parametrize("failure", ["status_503", "hang"])
async def test_an_unreachable_token_endpoint_is_unavailable_and_retryable(
    oauth: OAuthWorld, package_database_dsn: str, failure: str
) -> None:
    connection_id = await oauth.connect("google", f"o5-down-{failure}")
    await expire_in(package_database_dsn, connection_id, -60)
    if failure == "hang":
        oauth.google.behaviour.token_delay_seconds = 30
    else:
        oauth.google.http.answer_with_status(503, {"error": "backend_error"})
    try:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await oauth.stub.get_access_token(
                GetAccessTokenRequest(connection_id=connection_id),
                metadata=oauth.service.auth(),
                timeout=1.0 if failure == "hang" else None,
            )
    finally:
        oauth.google.http.behave_normally()
        oauth.google.behaviour.token_delay_seconds = 0
    expected = (
        grpc.StatusCode.DEADLINE_EXCEEDED if failure == "hang" else grpc.StatusCode.UNAVAILABLE
    )
    assert raised.value.code() == expected
    assert await _status(oauth, connection_id) == ConnectionStatus.ACTIVE


async def test_another_tenants_connection_answers_not_found(oauth: OAuthWorld) -> None:
    connection_id = await oauth.connect("google", "isolated")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _token(oauth, connection_id, organization_id="org-other")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_refresh_stuck_on_another_replica_is_unavailable_not_internal(
    oauth: OAuthWorld, package_database_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oauth_connections, "REFRESH_LOCK_WAIT_SECONDS", 0.3)
    connection_id = await oauth.connect("google", "o3-stuck-replica")
    await expire_in(package_database_dsn, connection_id, -60)
    other_replica = await asyncpg.connect(package_database_dsn)
    try:
        key = oauth_connections.refresh_lock_key(connection_id)
        await other_replica.execute("SELECT pg_advisory_lock($1)", key)
        refused = await _refused(oauth, connection_id)
    finally:
        await other_replica.close()
    assert refused.code() == grpc.StatusCode.UNAVAILABLE
    assert "taking too long" in (refused.details() or "")
    assert len((await _token(oauth, connection_id)).access_token) > 0


async def test_rotated_tokens_the_database_would_not_take_are_stored_on_the_next_call(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    connection_id = await oauth.connect("github", "o4-write-down")
    await expire_in(package_database_dsn, connection_id, -60)
    before = oauth.github.refresh_grants
    async with failing_token_writes(package_database_dsn, connection_id, failures=1000):
        refused = await _refused(oauth, connection_id)
    assert refused.code() == grpc.StatusCode.UNAVAILABLE
    assert oauth.github.refresh_grants - before == 1
    # GitHub voided the old refresh token: the kept one is stored, not refreshed again.
    kept = await _token(oauth, connection_id)
    assert oauth.github.refresh_grants - before == 1
    assert oauth.github.live_token(kept.access_token) is not None
    await expire_in(package_database_dsn, connection_id, -60)
    again = await _token(oauth, connection_id)
    assert again.access_token != kept.access_token
    assert await _status(oauth, connection_id) == ConnectionStatus.ACTIVE
