"""The process-wide provider HTTP client: one aiohttp session, the egress policy, no cookies.

`create_http_client` builds the one `ProviderClient` every provider call of the process shares
(tests build their own with a loopback-allowing policy); `transport` sends through it. Every
request passes the egress policy twice: its host is judged before anything is sent (IP-literal
hosts are fully judged there: aiohttp does not resolve them), and a host name is resolved
through the policy at connect time (`PolicyResolver`), so only checked addresses are reached.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from types import TracebackType

import aiohttp
import certifi
from multidict import CIMultiDictProxy
from yarl import URL

from integration_api.providers.egress import EgressPolicy, EgressRefused
from integration_api.providers.egress_connect import (
    PolicyResolver,
)
from integration_api.providers.pool import pool_wait_tracing
from integration_api.providers.pooled_body import DrainTasks, PooledBody
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits

# Set by the client itself: a body the caller gives as bytes carries its own content type.
_NO_AUTOMATIC_CONTENT_TYPE = frozenset({"Content-Type"})


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait, in seconds (None: no bound).

    Attributes:
        connect: for the TCP connection and the TLS handshake.
        read: between two pieces received (headers or body): a long stream stays open.
        pool: for a free connection of the pool and the connection together.
    """

    connect: float | None = 5.0
    read: float | None = 60.0
    pool: float | None = 5.0

    def for_messages(self) -> dict[str, float | None]:
        """The bounds by name, as the transport failure messages quote them."""
        return {"connect": self.connect, "read": self.read, "pool": self.pool}

    def client_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            sock_connect=self.connect, sock_read=self.read, connect=self.pool
        )


@dataclass(frozen=True)
class HttpClientSettings:
    """Pool size and timeouts of the process-wide provider client (aiohttp has no write timeout)."""

    connect_timeout_seconds: float = 5.0
    # Between two received chunks, not for the whole answer: a long stream stays open.
    read_timeout_seconds: float = 60.0
    pool_timeout_seconds: float = 5.0
    keepalive_expiry_seconds: float = 30.0
    user_agent: str = "integration-api"
    # Pool sizes, and the bounds every answer read through the client is held to.
    limits: UpstreamLimits = DEFAULT_LIMITS

    @property
    def max_connections(self) -> int:
        return self.limits.max_connections

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(
            self.connect_timeout_seconds, self.read_timeout_seconds, self.pool_timeout_seconds
        )


@functools.cache
def provider_tls_context() -> ssl.SSLContext:
    """Public CAs only (certifi's bundle, not the machine's), for every connection to a provider.

    One for the process: loading the bundle takes some 20 ms of CPU, and every client shares it.
    """
    return ssl.create_default_context(cafile=certifi.where())


class UpstreamAnswer:
    """An upstream's answer whose headers have arrived; its body is read piece by piece."""

    __slots__ = ("body", "headers", "status_code", "url")

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        url: URL,
        drains: DrainTasks,
        idle_seconds: float | None = None,
    ) -> None:
        self.status_code = response.status
        self.headers: CIMultiDictProxy[str] = response.headers
        # Where the request was addressed (a redirect is never followed).
        self.url = url
        # Between two pieces of the body, as aiohttp's read timeout was until the headers.
        self.body = PooledBody(response, drains, idle_seconds)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body (decoded) as it arrives."""
        while piece := await self.body.read():
            yield piece

    async def aiter_lines(self) -> AsyncIterator[str]:
        """The body as text lines, without their line breaks (an unbounded reader: tests only)."""
        text = ""
        async for piece in self.aiter_bytes():
            text += piece.decode("utf-8", "replace")
            *lines, text = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            for line in lines:
                yield line
        if text:
            yield text

    async def aclose(self) -> None:
        """Releases the connection (drained for reuse when only the body's end is missing)."""
        await self.body.aclose()


class ProviderClient:
    """The shared provider client: one cookieless aiohttp session under the egress policy.

    Redirects are never followed (a redirect would carry the key to another host) and proxy
    variables of the environment are ignored, so a key goes exactly where its credential says.
    """

    def __init__(self, settings: HttpClientSettings, policy: EgressPolicy) -> None:
        self._settings = settings
        self._policy = policy
        self.upstream_limits = settings.limits
        self.timeouts = settings.timeouts
        self._client_timeout = self.timeouts.client_timeout()
        self.drains = DrainTasks()
        # Made by `prepare` or on first use: aiohttp binds a session to the running event loop.
        self._session: aiohttp.ClientSession | None = None

    def prepare(self) -> None:
        """Make the session now, on the running loop, rather than in the first call."""
        if self._session is None:
            self._session = self._new_session()

    def _new_session(self) -> aiohttp.ClientSession:
        settings = self._settings
        # A per-host share keeps one slow or hostile upstream from taking every connection.
        connector = aiohttp.TCPConnector(
            limit=settings.limits.max_connections,
            limit_per_host=settings.limits.max_connections_per_host,
            keepalive_timeout=settings.keepalive_expiry_seconds,
            ssl=provider_tls_context(),
            resolver=PolicyResolver(self._policy),
        )
        return aiohttp.ClientSession(
            connector=connector,
            # The client is shared by every tenant: a cookie one provider answer sets must never
            # ride along on another tenant's request, so no cookie is ever kept.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            headers={"User-Agent": settings.user_agent},
            timeout=self._client_timeout,
            trace_configs=[pool_wait_tracing()],
        )

    async def open(
        self,
        method: str,
        url: URL,
        *,
        provider: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeouts: Timeouts | None = None,
    ) -> UpstreamAnswer:
        """Send one request for `provider` and return its answer once the headers are in.

        Raises:
            EgressRefused: `provider`'s key may not be sent to the URL's host.
            aiohttp.ClientError, OSError, TimeoutError: the request got no answer.
        """
        host = url.raw_host
        if not provider or not host or self._policy.refusal_for_host(provider, host) is not None:
            raise EgressRefused()
        session = self._session
        if session is None:
            session = self._session = self._new_session()
        has_type = body is not None and any(name.lower() == "content-type" for name in headers)
        response = await session.request(
            method,
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
            timeout=timeouts.client_timeout() if timeouts is not None else self._client_timeout,
            skip_auto_headers=None if body is None or has_type else _NO_AUTOMATIC_CONTENT_TYPE,
        )
        read = timeouts.read if timeouts is not None else self.timeouts.read
        return UpstreamAnswer(response, url, self.drains, read)

    async def aclose(self) -> None:
        """Ends the background drains and closes every connection."""
        await self.drains.close()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> ProviderClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def create_http_client(
    settings: HttpClientSettings | None = None, policy: EgressPolicy | None = None
) -> ProviderClient:
    """The `ProviderClient` every provider call of the process shares (close it on shutdown).

    Every request and every connection passes the egress `policy` (without one, the strictest:
    nothing listed, no loopback).
    """
    return ProviderClient(settings or HttpClientSettings(), policy or EgressPolicy())


def upstream_limits(http: ProviderClient) -> UpstreamLimits:
    """The bounds for answers read through `http`."""
    return http.upstream_limits
