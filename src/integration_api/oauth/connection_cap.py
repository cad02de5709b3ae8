"""A listening site that holds at most `max_connections` connections open at once.

aiohttp's server has no connection limit, so the site wraps its protocol factory: each
accepted connection takes a slot until it is lost, and one accepted while every slot is taken
is answered `503` with `Connection: close` and closed before anything it sent is read. Slots
are taken when the protocol is made, not in `connection_made`: the event loop makes the
protocols of a whole accept batch before any of them is connected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from integration_api.oauth.refusals import count_unmatched

_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 22\r\n\r\nToo many connections.\n"
)


class _Slot(asyncio.Protocol):
    """Passes every event to the server's own protocol and frees the slot when the connection
    is lost (asyncio calls `connection_lost` exactly once per connection made)."""

    def __init__(self, inner: asyncio.Protocol, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _Busy(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        count_unmatched("connection_limit")
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(_BUSY)
        transport.close()


class CappedTCPSite(web.TCPSite):
    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        max_connections: int,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner, host, port, reuse_port=reuse_port)
        self._max_connections = max_connections
        self.open_connections = 0

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_port=self._reuse_port,
        )
        self._bound_port = self._server.sockets[0].getsockname()[1]

    def _protocol(self) -> asyncio.Protocol:
        server = self._runner.server
        if server is None or self.open_connections >= self._max_connections:
            return _Busy()
        self.open_connections += 1
        return _Slot(server(), self._release)

    def _release(self) -> None:
        self.open_connections -= 1
