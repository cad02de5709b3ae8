from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.fakes.oauth_server import FakeOAuthProvider
from tests.fakes.server import FakeServer
from tests.oauth.support import OAuthWorld, free_port, oauth_settings
from tests.support.service import running_service


async def _done(request: web.Request) -> web.Response:
    return web.Response(text="done")


@pytest.fixture(scope="package")
async def world(package_database_dsn: str) -> AsyncIterator[OAuthWorld]:
    """One service and one pair of providers for the whole package (fast); tests use their
    own connection names and tenants, and reset the providers' behaviour."""
    port = free_port()
    callback_url = f"http://127.0.0.1:{port}/oauth/callback"
    async with FakeServer() as google_http, FakeServer() as github_http, FakeServer() as platform:
        platform.route("GET", "/done", _done)
        google = FakeOAuthProvider(google_http, "google", f"{callback_url}/google")
        github = FakeOAuthProvider(github_http, "github_app", f"{callback_url}/github")
        settings = oauth_settings(callback_url, port, google, github, f"{platform.url}/done")
        async with running_service(package_database_dsn, oauth=settings) as service:
            yield OAuthWorld(service, google, github, platform, callback_url)


@pytest.fixture
async def oauth(world: OAuthWorld) -> AsyncIterator[OAuthWorld]:
    yield world
    for fake in (world.google, world.github):
        fake.behaviour = type(fake.behaviour)()
    world.github.use_shape("github_app")
