"""Canary tokens through every OAuth path: they appear nowhere but at the provider and in the
one GetAccessToken answer meant to carry them — not in logs (debug included), status details,
metrics, Redis or a pg_dump."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Iterator
from urllib.parse import parse_qs

import grpc
import pytest
import structlog
from integration_api_proto.integration.v1 import (
    CompleteAuthorizationRequest,
    GetAccessTokenRequest,
    RevokeConnectionRequest,
)
from prometheus_client import generate_latest

from integration_api.config import RedisSettings
from integration_api.observability.logging import configure_logging
from tests.fakes.oauth_server import CLIENT_SECRET, FakeOAuthProvider
from tests.fakes.server import FakeServer
from tests.oauth.database import expire_in
from tests.oauth.support import OAuthWorld, free_port, oauth_settings, query_of
from tests.support.service import running_service


@pytest.fixture
def debug_logging() -> Iterator[None]:
    configure_logging("debug", "json")
    yield
    structlog.reset_defaults()
    configure_logging("info", "console")


def _pg_dump(dsn: str) -> bytes:
    return subprocess.run(
        ["pg_dump", "--data-only", "--inserts", dsn], check=True, capture_output=True, timeout=60
    ).stdout


async def _exercise(world: OAuthWorld, dsn: str, statuses: list[bytes]) -> None:
    auth = world.service.auth()
    for provider in ("google", "github"):
        connection_id = await world.connect(provider, f"canary-{provider}")
        request = GetAccessTokenRequest(connection_id=connection_id)
        await world.stub.get_access_token(request, metadata=auth)
        await expire_in(dsn, connection_id, -60)
        await world.stub.get_access_token(request, metadata=auth)
        for token in world.fake(provider).tokens.values():
            token.revoked = True
        await expire_in(dsn, connection_id, -60)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await world.stub.get_access_token(request, metadata=auth)
        statuses += [(refused.value.details() or "").encode(), repr(refused.value).encode()]
        await world.stub.revoke_connection(
            RevokeConnectionRequest(connection_id=connection_id), metadata=auth
        )
    callback = query_of(await world.authorize_code(await world.start("google", "canary-used")))
    await world.stub.complete_authorization(
        CompleteAuthorizationRequest(state=callback["state"], code=callback["code"]), metadata=auth
    )
    with pytest.raises(grpc.aio.AioRpcError) as replayed:
        await world.stub.complete_authorization(
            CompleteAuthorizationRequest(state=callback["state"], code=callback["code"]),
            metadata=auth,
        )
    statuses.append((replayed.value.details() or "").encode())


@pytest.mark.usefixtures("debug_logging")
async def test_canary_tokens_never_leak(
    empty_database_dsn: str,
    redis_prefix: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The fake authorization server's own library logs every token it issues: that is the
    # provider's side, not ours.
    caplog.set_level(logging.WARNING, logger="authlib")
    port = free_port()
    callback_url = f"http://127.0.0.1:{port}/oauth/callback"
    statuses: list[bytes] = []
    async with FakeServer() as google_http, FakeServer() as github_http, FakeServer() as platform:
        google = FakeOAuthProvider(google_http, "google", f"{callback_url}/google")
        github = FakeOAuthProvider(github_http, "github_app", f"{callback_url}/github")
        settings = oauth_settings(callback_url, port, google, github, f"{platform.url}/done")
        redis_settings = RedisSettings(host="127.0.0.1", port=6379, key_prefix=redis_prefix)
        async with running_service(
            empty_database_dsn, oauth=settings, redis=redis_settings
        ) as service:
            world = OAuthWorld(service, google, github, platform, callback_url)
            await _exercise(world, empty_database_dsn, statuses)
            dump = await asyncio.to_thread(_pg_dump, empty_database_dsn)
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    metrics = generate_latest()
    canaries = [*google.tokens, *github.tokens, CLIENT_SECRET]
    codes = [
        values[0]
        for request in google_http.requests_to("/token")
        for name, values in parse_qs(request.body.decode()).items()
        if name == "code"
    ]
    assert len(canaries) > 8 and len(codes) >= 2
    assert b"INSERT INTO public.oauth_connections" in dump
    assert "rpc request" in logs
    # Codes travel in the browser's URLs, which the test's own HTTP client logs; tokens never do.
    for secret in canaries:
        assert secret not in logs
    for secret in [*canaries, *filter(None, codes)]:
        assert all(secret.encode() not in blob for blob in statuses)
        assert secret.encode() not in dump
        assert secret.encode() not in metrics
