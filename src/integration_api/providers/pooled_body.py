"""Answer bodies read straight from aiohttp, and their connections kept for the next call.

A stream reader stops at the provider's end marker (`[DONE]`, `message_stop`, the last Bedrock
frame); the chunked body's own end often arrives a moment later. aiohttp closes, rather than
pools, a connection whose body was not read to its end, so the next call would open a new
connection: over the internet a TCP and TLS handshake, one or two round trips added to its time
to first token. Here a body closed before its end is drained in the background, briefly and
within bounds, and its connection goes back to the pool when the end arrives. An answer
abandoned mid-way (the caller went away) is not drained: more than a few bytes, or no end
within a second, and the connection is closed, which also tells the provider to stop generating.

Pieces are read from aiohttp's buffer directly (`readany`), already decoded when the answer
came compressed; aiohttp's exceptions pass unchanged to `transport_failures`.

A body that stops arriving is ended by its own idle watch, not by aiohttp's read timeout: that
one is re-armed on every piece that arrives (a timer made, pushed on the loop's heap and
cancelled some 20 times per streamed answer), where the watch wakes once per idle period and
looks whether bytes arrived since. A body silent for the whole period ends exactly as aiohttp's
timeout would end it (`SocketTimeoutError`, the connection not reused); one whose bytes stop
mid-way ends between one and two periods after the last, and only once the caller has read
every byte that did arrive (aiohttp's timeout dropped what was still in its buffer).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import aiohttp

# What may still arrive after a stream reader stopped, for the connection to be kept: the
# chunked end carries no payload; a trailing blank line or comment is a few bytes.
DRAIN_MAX_BYTES = 1024
DRAIN_MAX_SECONDS = 1.0


class PieceReader(Protocol):
    """A body read piece by piece: `read` returns b"" at the end."""

    async def read(self) -> bytes: ...

    async def aclose(self) -> None: ...


class DrainTasks:
    """The background drains of one client, ended when the client closes."""

    def __init__(self) -> None:
        # The loop holds tasks only weakly: this keeps each one alive until it ends.
        self._tasks: dict[asyncio.Task[None], PooledBody] = {}
        self._closed = False

    @property
    def accepting(self) -> bool:
        return not self._closed

    def start(self, body: PooledBody) -> None:
        task = asyncio.get_running_loop().create_task(body.drain())
        self._tasks[task] = body
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    def __len__(self) -> int:
        return len(self._tasks)

    async def settled(self) -> None:
        """Returns once the drains under way have ended."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        self._closed = True
        drains = dict(self._tasks)
        for task in drains:
            task.cancel()
        await asyncio.gather(*drains, return_exceptions=True)
        # A drain cancelled before its first step never ran its own release.
        for body in drains.values():
            body.abort()


class PooledBody:
    """One aiohttp answer's body: read directly, and released so its connection can be reused."""

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        drains: DrainTasks,
        idle_seconds: float | None = None,
    ) -> None:
        self._response = response
        self._content = response.content
        self._drains = drains
        self._closed = False
        self._watch: asyncio.TimerHandle | None = None
        # Bytes handed to the reader; fewer than arrived means some still wait to be read.
        self._consumed = 0
        connection = response.connection
        if idle_seconds and connection is not None and connection.protocol is not None:
            self._watch_idle(connection.protocol, idle_seconds)

    def _watch_idle(self, protocol: aiohttp.client_proto.ResponseHandler, seconds: float) -> None:
        """Replace aiohttp's per-piece read timeout with one check per `seconds`."""
        protocol.read_timeout = None
        protocol.start_timeout()  # cancels the timer aiohttp armed for the headers
        loop = asyncio.get_running_loop()
        seen = self._content.total_bytes

        def check() -> None:
            nonlocal seen
            self._watch = None
            if self._closed or self._content.is_eof():
                return
            arrived = self._content.total_bytes
            # Bytes that arrived, or that wait unread (a slow caller is not a silent upstream).
            if arrived != seen or self._consumed < arrived:
                seen = arrived
                self._watch = loop.call_later(seconds, check)
                return
            silent = aiohttp.SocketTimeoutError("Timeout on reading data from socket")
            protocol.set_exception(silent)
            self._content.set_exception(silent)

        self._watch = loop.call_later(seconds, check)

    def _stop_watching(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    async def read(self) -> bytes:
        """What has arrived (waiting for something if nothing has); b"" at the end."""
        piece = await self._content.readany()
        self._consumed += len(piece)
        return piece

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop_watching()
        if self._content.at_eof() or not self._drains.accepting:
            await self._release()
            return
        self._drains.start(self)

    async def drain(self) -> None:
        """Read what is left, within the bounds, then release (pooled only at the end)."""
        left = 0
        try:
            async with asyncio.timeout(DRAIN_MAX_SECONDS):
                while piece := await self._content.readany():
                    left += len(piece)
                    if left > DRAIN_MAX_BYTES:
                        break
        except (TimeoutError, aiohttp.ClientError):
            pass
        finally:
            await self._release()

    async def _release(self) -> None:
        await self._response.__aexit__(None, None, None)

    def abort(self) -> None:
        """Close the connection at once (a no-op once released)."""
        self._stop_watching()
        self._response.close()
