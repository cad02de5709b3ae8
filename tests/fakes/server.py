"""A local HTTP server on 127.0.0.1 that stands in for a provider and records what it was sent.

Routes are kept in the server's own table, so they may be added before or after it starts. Any
route can be overridden for every request at once: `answer_with_status(500)` makes the
provider fail, `hang()` makes it accept the request and never answer.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ROUTE_MATCH = web.RequestKey("route_match", re.Match[str])


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def json_response(
    status: int,
    body: object,
    *,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> web.Response:
    """A JSON answer with the exact content type a provider uses."""
    return web.Response(
        status=status,
        text=json.dumps(body),
        headers={"Content-Type": content_type, **(headers or {})},
    )


@dataclass
class _Override:
    status: int = 0
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class FakeServer:
    """An aiohttp.web server on 127.0.0.1 with a route table and a request log."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # Providers that echo what they were sent in error messages are imitated with this on.
        self.echo_credentials = False
        self._routes: list[_Route] = []
        self._override = _Override()
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._port}"

    def route(self, method: str, path: str | re.Pattern[str], handler: Handler) -> None:
        """Answer `method` on `path` (an exact path, or a pattern matched in full)."""
        pattern = path if isinstance(path, re.Pattern) else re.compile(re.escape(path))
        self._routes.append(_Route(method.upper(), pattern, handler))

    def answer_with_status(
        self, status: int, body: object = None, headers: dict[str, str] | None = None
    ) -> None:
        """From now on, answer every request with this status (and JSON body)."""
        self._override = _Override(status=status, body=body, headers=dict(headers or {}))

    def hang(self) -> None:
        """From now on, accept every request and never answer it (until the server stops)."""
        self._override = _Override(hang=True)

    def behave_normally(self) -> None:
        self._override = _Override()

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query={key: value for key, value in request.query.items()},
                headers={name.lower(): value for name, value in request.headers.items()},
                body=body,
            )
        )
        override = self._override
        if override.hang:
            await self._released.wait()
            return web.Response(status=503)
        if override.status:
            default = {"error": {"message": "The server had an error.", "type": "server_error"}}
            body_out = override.body if override.body is not None else default
            return json_response(override.status, body_out, headers=override.headers)
        return await handler(request)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        for route in self._routes:
            match = route.pattern.fullmatch(request.path)
            if match and route.method in (request.method, "*"):
                request[ROUTE_MATCH] = match
                return await route.handler(request)
        return json_response(404, {"error": {"message": f"no route for {request.path}"}})
