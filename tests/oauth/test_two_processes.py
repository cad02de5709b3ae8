"""Two real server processes on one database: 50 concurrent GetAccessToken calls on an expired
token, split between them, reach the token endpoint once and all get the new token (O3)."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import httpx
from aiohttp import web
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import (
    CompleteAuthorizationRequest,
    GetAccessTokenRequest,
    StartAuthorizationRequest,
)
from integration_api_proto.integration.v1.grpc_aio import OAuthServiceStub

from integration_api.auth.tokens import mint_token
from integration_api.vault import generate_key
from tests.fakes.oauth_server import CLIENT_ID, CLIENT_SECRET, FakeOAuthProvider
from tests.fakes.server import FakeServer
from tests.oauth.database import expire_in
from tests.oauth.support import GOOGLE_SCOPES, free_port, landed
from tests.support.health_client import check_status
from tests.support.service import LOOPBACK_EGRESS_ALLOW


def _environment(data_dir: Path, dsn: str, shared: dict[str, str]) -> dict[str, str]:
    parts = urlsplit(dsn)
    ours = ("POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO", "OAUTH_", "GOOGLE_", "GITHUB_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        shared,
        ENV="test",
        DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(free_port()),
        METRICS_PORT="0",
        POSTGRES__HOST=parts.hostname or "127.0.0.1",
        POSTGRES__PORT=str(parts.port or 5432),
        POSTGRES__DB_NAME=parts.path.lstrip("/"),
        POSTGRES__AUTH__USER=parts.username or "postgres",
        READINESS_INTERVAL_SECONDS="0.2",
        # The fake Google listens on loopback, which ENV=test reaches only when listed.
        EGRESS_ALLOW=",".join(LOOPBACK_EGRESS_ALLOW),
    )
    return env


@asynccontextmanager
async def _serving(env: dict[str, str]) -> AsyncIterator[grpc.aio.Channel]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "integration_api.cli",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{env['PORT']}")
    try:
        for _attempt in range(300):
            assert process.returncode is None, "the service exited during start-up"
            try:
                if await check_status(channel, timeout=1) == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
        yield channel
    finally:
        await channel.close()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_two_processes_refresh_an_expired_token_once_for_fifty_callers(
    tmp_path: Path, empty_database_dsn: str
) -> None:
    callback_port = free_port()
    callback_url = f"http://127.0.0.1:{callback_port}/oauth/callback"
    secret = secrets.token_urlsafe(48)
    async with FakeServer() as google_http, FakeServer() as platform, AsyncExitStack() as stack:
        platform.route("GET", "/done", _done)
        google = FakeOAuthProvider(google_http, "google", f"{callback_url}/google")
        shared = {
            "SECRET": secret,
            "INTEGRATION_CRYPTO_KEY": generate_key(),
            "OAUTH_CALLBACK_URL": callback_url,
            "OAUTH_REDIRECT_ALLOW": f"{platform.url}/done",
            "OAUTH_KEEPALIVE_INTERVAL_SECONDS": "0",
            "GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID,
            "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
            **{f"GOOGLE_OAUTH_{name.upper()}": url for name, url in google.urls.items()},
        }
        channels = []
        for index, port in enumerate((callback_port, free_port())):
            env = _environment(tmp_path / f"replica-{index}", empty_database_dsn, shared)
            env["OAUTH_CALLBACK_PORT"] = str(port)
            channels.append(await stack.enter_async_context(_serving(env)))
        token = mint_token(secret, organization_id="org-1", project_id="p-1", user_id="u-1")
        auth = (("authorization", f"Bearer {token}"),)
        first, second = OAuthServiceStub(channels[0]), OAuthServiceStub(channels[1])
        started = await first.start_authorization(
            StartAuthorizationRequest(
                provider="google",
                scopes=GOOGLE_SCOPES,
                connection_name="shared",
                redirect_after=f"{platform.url}/done",
            ),
            metadata=auth,
        )
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
            outcome = landed(await browser.get(started.authorization_url))
        completed = await second.complete_authorization(
            CompleteAuthorizationRequest(completion_code=outcome["completion_code"]), metadata=auth
        )
        connection_id = completed.connection.id
        await expire_in(empty_database_dsn, connection_id, -60)
        google.behaviour.token_delay_seconds = 0.3
        request = GetAccessTokenRequest(connection_id=connection_id)
        answers = await asyncio.gather(
            *(stub.get_access_token(request, metadata=auth) for stub in [first, second] * 25)
        )
    assert google.refresh_grants == 1
    assert len({answer.access_token for answer in answers}) == 1
    assert google.live_token(answers[0].access_token) is not None


async def _done(request: web.Request) -> web.Response:
    return web.Response(text="done")
