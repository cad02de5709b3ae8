"""OAuth connections in the key tests: local Google- and GitHub-shaped providers that outlive
the services started against them, so one service can seal tokens and another, with another
keyring, can use them."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from integration_api_proto.integration.v1 import GetAccessTokenRequest

from tests.fakes.oauth_server import FakeOAuthProvider
from tests.fakes.server import FakeServer
from tests.oauth.support import OAuthWorld, free_port, oauth_settings
from tests.support.service import running_service


async def _done(_request: web.Request) -> web.Response:
    return web.Response(text="done")


@dataclass
class OAuthProviders:
    google: FakeOAuthProvider
    github: FakeOAuthProvider
    platform: FakeServer
    callback_port: int
    # Every service of a test signs tokens with the same secret, as replicas do.
    secret: str

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.callback_port}/oauth/callback"

    @asynccontextmanager
    async def service(self, dsn: str, **keys: Any) -> AsyncIterator[OAuthWorld]:
        """A service with OAuth against these providers and the keyring given in `keys`."""
        settings = oauth_settings(
            self.callback_url,
            self.callback_port,
            self.google,
            self.github,
            f"{self.platform.url}/done",
        )
        async with running_service(dsn, oauth=settings, secret=self.secret, **keys) as service:
            yield OAuthWorld(service, self.google, self.github, self.platform, self.callback_url)


@asynccontextmanager
async def oauth_providers() -> AsyncIterator[OAuthProviders]:
    port = free_port()
    callback_url = f"http://127.0.0.1:{port}/oauth/callback"
    async with FakeServer() as google_http, FakeServer() as github_http, FakeServer() as platform:
        platform.route("GET", "/done", _done)
        yield OAuthProviders(
            google=FakeOAuthProvider(google_http, "google", f"{callback_url}/google"),
            github=FakeOAuthProvider(github_http, "github_app", f"{callback_url}/github"),
            platform=platform,
            callback_port=port,
            secret=secrets.token_urlsafe(48),
        )


async def access_token(world: OAuthWorld, connection_id: str) -> str:
    answer = await world.stub.get_access_token(
        GetAccessTokenRequest(connection_id=connection_id), metadata=world.service.auth()
    )
    return answer.access_token
