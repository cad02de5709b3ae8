"""Answer bodies: read directly from aiohttp, and their connections kept for the next call."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from integration_api.providers import pooled_body
from integration_api.providers.http_client import (
    HttpClientSettings,
    ProviderClient,
    create_http_client,
)
from integration_api.providers.pooled_body import DRAIN_MAX_BYTES
from integration_api.providers.sse import open_event_stream
from integration_api.providers.transport import open_stream
from integration_api.upstream.timer import UpstreamTimer
from tests.providers.conftest import LOOPBACK_POLICY

_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _chunk(payload: bytes) -> bytes:
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"


@dataclass
class EndingLate:
    """An SSE upstream that sends `[DONE]`, then what `after_done` holds, `delay` later."""

    after_done: bytes = b"0\r\n\r\n"
    delay: float = 0.05
    connections: int = 0
    requests: int = 0
    ended: list[asyncio.Task[None]] = field(default_factory=list)
    port: int = 0

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.requests += 1
                writer.write(_HEAD + _chunk(b"data: one\n\n") + _chunk(b"data: [DONE]\n\n"))
                await writer.drain()
                await asyncio.sleep(self.delay)
                writer.write(self.after_done)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def upstream() -> AsyncIterator[EndingLate]:
    fake = EndingLate()
    server = await asyncio.start_server(fake.answer, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[ProviderClient]:
    async with create_http_client(HttpClientSettings(), LOOPBACK_POLICY) as http:
        yield http


async def _read_until_done(http: ProviderClient, port: int) -> list[str]:
    """What a stream reader does: stop at the end marker, before the body's own end."""
    seen: list[str] = []
    async with open_event_stream(
        http,
        f"http://127.0.0.1:{port}/v1/chat/completions",
        provider="openai",
        timer=UpstreamTimer(),
        headers={},
        json_body={"stream": True},
    ) as stream:
        async for event in stream.events:
            seen.append(event.data)
            if event.data == "[DONE]":
                break
    return seen


def _drains(http: ProviderClient) -> pooled_body.DrainTasks:
    return http.drains


async def _drained(http: ProviderClient) -> None:
    async with asyncio.timeout(5):
        await _drains(http).settled()


async def test_a_stream_read_to_its_end_marker_gives_its_connection_to_the_next_call(
    upstream: EndingLate, client: ProviderClient
) -> None:
    for _ in range(3):
        assert await _read_until_done(client, upstream.port) == ["one", "[DONE]"]
        await _drained(client)

    assert (upstream.requests, upstream.connections) == (3, 1)


async def test_the_answer_is_not_held_back_while_its_end_is_drained(
    upstream: EndingLate, client: ProviderClient
) -> None:
    upstream.delay = 0.5
    loop = asyncio.get_running_loop()
    started = loop.time()

    await _read_until_done(client, upstream.port)

    assert loop.time() - started < 0.4
    assert len(_drains(client)) == 1
    await _drained(client)


async def test_an_answer_that_goes_on_is_not_drained_but_closed(
    upstream: EndingLate, client: ProviderClient
) -> None:
    # A caller that stops mid-answer: the provider keeps sending, the connection is closed.
    upstream.after_done = _chunk(b"data: " + b"x" * DRAIN_MAX_BYTES + b"\n\n")
    upstream.delay = 0.01

    await _read_until_done(client, upstream.port)
    await _drained(client)
    await _read_until_done(client, upstream.port)
    await _drained(client)

    assert (upstream.requests, upstream.connections) == (2, 2)


async def test_an_end_that_never_comes_closes_the_connection_after_the_bound(
    upstream: EndingLate, client: ProviderClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pooled_body, "DRAIN_MAX_SECONDS", 0.1)
    upstream.delay = 30

    await _read_until_done(client, upstream.port)
    await _drained(client)
    await _read_until_done(client, upstream.port)

    assert upstream.connections == 2


async def test_closing_the_client_ends_the_drains(upstream: EndingLate) -> None:
    upstream.delay = 30
    async with create_http_client(HttpClientSettings(), LOOPBACK_POLICY) as http:
        await _read_until_done(http, upstream.port)
        drains = _drains(http)
        assert len(drains) == 1

    assert len(drains) == 0


async def test_a_compressed_body_is_read_directly_and_decoded() -> None:
    text = b"data: " + b"squeezed " * 200 + b"\n\n"
    packed = gzip.compress(text)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            f"content-encoding: gzip\r\ncontent-length: {len(packed)}\r\n\r\n"
        )
        writer.write(head.encode() + packed)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with (
        server,
        create_http_client(HttpClientSettings(), LOOPBACK_POLICY) as http,
        open_stream(http, "GET", f"http://127.0.0.1:{port}/", provider="openai") as response,
    ):
        assert isinstance(response.body, pooled_body.PooledBody)
        received = b"".join([piece async for piece in response.aiter_bytes()])

    assert received == text
