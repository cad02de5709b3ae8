"""One service with OAuth configured against local Google- and GitHub-shaped authorization
servers, a platform page to land on, and a browser that follows redirects."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from aiohttp import web
from integration_api_proto.integration.v1 import (
    CompleteAuthorizationRequest,
    Connection,
    StartAuthorizationRequest,
    StartAuthorizationResponse,
)
from integration_api_proto.integration.v1.grpc_aio import OAuthServiceStub

from integration_api.config import OAuthClientSettings, OAuthSettings
from integration_api.config.callback_shim import CallbackShimSettings
from tests.fakes.oauth_server import CLIENT_ID, CLIENT_SECRET, FakeOAuthProvider
from tests.fakes.server import FakeServer
from tests.support.service import RunningService, running_service

GOOGLE_SCOPES = ["openid", "email", "https://www.googleapis.com/auth/calendar.readonly"]
GITHUB_SCOPES = ["read:user", "user:email"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The tests send many callbacks from one address; the limits have tests of their own.
GENEROUS_SHIM = CallbackShimSettings(rate_per_second=1000, rate_burst=1000)


def oauth_settings(
    callback_url: str,
    port: int,
    google: FakeOAuthProvider,
    github: FakeOAuthProvider,
    done: str,
    shim: CallbackShimSettings = GENEROUS_SHIM,
) -> OAuthSettings:
    return OAuthSettings(
        callback_url=callback_url,
        callback_port=port,
        redirect_allow=(done,),
        keepalive_interval_seconds=0,
        shim=shim,
        google=OAuthClientSettings(CLIENT_ID, CLIENT_SECRET, **google.urls),
        github=OAuthClientSettings(CLIENT_ID, CLIENT_SECRET, **github.urls),
    )


@dataclass
class OAuthWorld:
    service: RunningService
    google: FakeOAuthProvider
    github: FakeOAuthProvider
    platform: FakeServer
    callback_url: str

    @property
    def stub(self) -> OAuthServiceStub:
        return OAuthServiceStub(self.service.channel)

    @property
    def done_url(self) -> str:
        return f"{self.platform.url}/done"

    def fake(self, provider: str) -> FakeOAuthProvider:
        return self.google if provider == "google" else self.github

    async def start(
        self,
        provider: str,
        name: str = "main",
        *,
        redirect_after: str | None = None,
        scopes: list[str] | None = None,
        **tenant: str,
    ) -> StartAuthorizationResponse:
        default_scopes = GOOGLE_SCOPES if provider == "google" else GITHUB_SCOPES
        return await self.stub.start_authorization(
            StartAuthorizationRequest(
                provider=provider,
                scopes=default_scopes if scopes is None else scopes,
                connection_name=name,
                redirect_after=self.done_url if redirect_after is None else redirect_after,
            ),
            metadata=self.service.auth(**tenant),
        )

    async def browse(self, url: str) -> httpx.Response:
        """A browser: follows every redirect, keeps no state between flows."""
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
            return await browser.get(url)

    async def authorize_code(self, started: StartAuthorizationResponse) -> str:
        """Only the provider leg: the callback URL the provider sends the browser to."""
        async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
            answer = await browser.get(started.authorization_url)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    async def complete(self, completion_code: str, **caller: str) -> Connection:
        """The completion step the platform makes from the user's session."""
        answer = await self.stub.complete_authorization(
            CompleteAuthorizationRequest(completion_code=completion_code),
            metadata=self.service.auth(**caller),
        )
        assert answer.connection is not None
        return answer.connection

    async def consent(self, provider: str, name: str = "main", **tenant: str) -> str:
        """Start, then the whole browser leg; returns the completion code the platform page
        was given."""
        started = await self.start(provider, name, scopes=None, **tenant)
        outcome = landed(await self.browse(started.authorization_url))
        assert outcome.get("status") == "authorized", outcome
        return outcome["completion_code"]

    async def connect(self, provider: str, name: str = "main", **tenant: str) -> str:
        """Start, consent and complete as the same user; returns the new connection's id."""
        code = await self.consent(provider, name, **tenant)
        return (await self.complete(code, **tenant)).id


def landed(response: httpx.Response) -> dict[str, str]:
    """The outcome the platform page was given in its query."""
    return {key: values[0] for key, values in parse_qs(urlsplit(str(response.url)).query).items()}


async def get(url: str) -> httpx.Response:
    """One request, no redirect followed (to look at what the shim answers)."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        return await browser.get(url)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str | None) -> str:
    """`url` with some query parameters replaced (None removes one)."""
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return parts._replace(query=urlencode(query)).geturl()


async def _done(request: web.Request) -> web.Response:
    return web.Response(text="done")


@asynccontextmanager
async def oauth_world(
    database_dsn: str, shim: CallbackShimSettings = GENEROUS_SHIM, **overrides: Any
) -> AsyncIterator[OAuthWorld]:
    """One service with OAuth configured against a fresh pair of local providers, the callback
    shim's limits `shim` (and any other settings in `overrides`)."""
    port = free_port()
    callback_url = f"http://127.0.0.1:{port}/oauth/callback"
    async with FakeServer() as google_http, FakeServer() as github_http, FakeServer() as platform:
        platform.route("GET", "/done", _done)
        google = FakeOAuthProvider(google_http, "google", f"{callback_url}/google")
        github = FakeOAuthProvider(github_http, "github_app", f"{callback_url}/github")
        done = f"{platform.url}/done"
        settings = oauth_settings(callback_url, port, google, github, done, shim)
        async with running_service(database_dsn, oauth=settings, **overrides) as service:
            yield OAuthWorld(service, google, github, platform, callback_url)
