"""A body whose bytes stop is ended as aiohttp's read timeout ends it; one still arriving is not.

A raw HTTP server on loopback sends the headers and chunks of a chunked body on a schedule the
test chooses, then holds the connection open without a word.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import aiohttp
import pytest
from yarl import URL

from integration_api.errors import DeadlineExceeded
from integration_api.providers.egress import EgressPolicy
from integration_api.providers.http_client import (
    HttpClientSettings,
    ProviderClient,
    create_http_client,
)
from integration_api.providers.transport_failures import transport_error
from integration_api.upstream.allow_list import parse_allow_list
from tests.support.self_signed import holding_server

IDLE_SECONDS = 0.25
_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def paced_server(gaps: list[float]) -> AbstractAsyncContextManager[int]:
    """Answers any request with the headers, then one event after each gap, then silence."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(_HEAD)
        for gap in gaps:
            await asyncio.sleep(gap)
            writer.write(_chunk(b"data: {}\n\n"))
            await writer.drain()

    return holding_server(answer)


@asynccontextmanager
async def short_idle_client() -> AsyncIterator[ProviderClient]:
    policy = EgressPolicy(allow=parse_allow_list(("127.0.0.0/8",)))
    async with create_http_client(
        HttpClientSettings(read_timeout_seconds=IDLE_SECONDS), policy
    ) as client:
        yield client


async def _read_all(
    client: ProviderClient, port: int, pause: float = 0.0
) -> tuple[bytes, BaseException | None]:
    """What the body gave before it ended or failed, and the failure; `pause` waits before
    every read."""
    answer = await client.open(
        "POST", URL(f"http://127.0.0.1:{port}/v1/chat"), provider="openai", headers={}, body=b"{}"
    )
    received = b""
    try:
        while True:
            await asyncio.sleep(pause)
            piece = await answer.body.read()
            if not piece:
                return received, None
            received += piece
    except aiohttp.ClientError as error:
        return received, error
    finally:
        await answer.aclose()


async def test_a_body_that_stops_mid_way_is_a_read_timeout() -> None:
    async with paced_server([0.0, 0.05]) as port, short_idle_client() as client:
        started = time.monotonic()
        received, failure = await _read_all(client, port)
        waited = time.monotonic() - started

    assert isinstance(failure, aiohttp.SocketTimeoutError)
    assert received.count(b"data: {}") == 2
    # Between one and two idle periods after the last byte (with room for a loaded machine).
    assert IDLE_SECONDS <= waited < 10 * IDLE_SECONDS
    error = transport_error(failure, "openai", URL(f"http://127.0.0.1:{port}"))
    assert isinstance(error, DeadlineExceeded)
    assert error.metadata["transport_failure"] == "read_timeout"


async def test_a_body_silent_from_its_headers_on_is_a_read_timeout() -> None:
    async with paced_server([]) as port, short_idle_client() as client:
        received, failure = await _read_all(client, port)

    assert isinstance(failure, aiohttp.SocketTimeoutError)
    assert received == b""


@pytest.mark.parametrize("pause", [0.0, 0.4])
async def test_bytes_that_keep_arriving_never_time_out(pause: float) -> None:
    # Each gap is shorter than the idle period, the whole far longer; with `pause` the caller
    # reads slower than the bytes arrive (they wait in the buffer, which is not silence).
    gaps = [0.1] * 12
    async with paced_server(gaps) as port, short_idle_client() as client:
        received, failure = await _read_all(client, port, pause)

    # The server never ends the body: it times out only once silent, after every event.
    assert isinstance(failure, aiohttp.SocketTimeoutError)
    assert received.count(b"data: {}") == len(gaps)
