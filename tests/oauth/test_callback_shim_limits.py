"""The callback shim's own bounds, seen over real sockets: request headers must be complete
within the header timeout, connections past the cap are refused, a body is never read, and a
flood from one address is answered 429 while another address is served."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import REGISTRY

from integration_api.config.callback_shim import CallbackShimSettings
from integration_api.oauth.callback_shim import CallbackShim
from tests.oauth.support import OAuthWorld, oauth_world

HEADER_TIMEOUT = 1.0
MAX_CONNECTIONS = 40
BURST = 5
SHIM = CallbackShimSettings(
    header_timeout_seconds=HEADER_TIMEOUT,
    max_connections=MAX_CONNECTIONS,
    # One token per 10 s: a slow machine cannot refill a bucket in the middle of a flood.
    rate_per_second=0.1,
    rate_burst=BURST,
)
REFUSALS = "integration_api_oauth_callback_refusals_total"


@pytest.fixture(scope="module")
async def limited(package_database_dsn: str) -> AsyncIterator[OAuthWorld]:
    async with oauth_world(package_database_dsn, shim=SHIM) as world:
        yield world


def _shim(world: OAuthWorld) -> CallbackShim:
    shim = world.service.app.callback_shim
    assert shim is not None and shim.site is not None
    return shim


def _open(world: OAuthWorld) -> int:
    site = _shim(world).site
    assert site is not None
    return site.open_connections


async def _connect(
    world: OAuthWorld, local: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", _shim(world).port, local_addr=(local, 0))


async def _closed_after(reader: asyncio.StreamReader) -> float:
    """Seconds until the server closes the connection (whatever it sent first)."""
    started = time.monotonic()
    try:
        while await reader.read(4096):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


async def _trickle_headers(writer: asyncio.StreamWriter, lines: int, every: float) -> None:
    """Sends a request line, then one header line every `every` seconds, never the end."""
    try:
        writer.write(b"GET /oauth/callback/google?state=s&code=c HTTP/1.1\r\nHost: x\r\n")
        for n in range(lines):
            await asyncio.sleep(every)
            writer.write(f"X-Slow-{n}: 1\r\n".encode())
            await writer.drain()
    except ConnectionError:
        pass


async def test_connections_trickling_headers_are_closed_within_the_header_timeout(
    limited: OAuthWorld,
) -> None:
    connections = [await _connect(limited) for _ in range(30)]
    trickles = [
        asyncio.create_task(_trickle_headers(writer, 40, HEADER_TIMEOUT / 4))
        for _, writer in connections
    ]
    waits = await asyncio.gather(*(_closed_after(reader) for reader, _ in connections))
    for task in trickles:
        task.cancel()
    for _, writer in connections:
        writer.close()
    assert max(waits) < HEADER_TIMEOUT + 1.0
    await _until(lambda: _open(limited) == 0)


async def test_a_connection_that_sends_nothing_is_closed_within_the_header_timeout(
    limited: OAuthWorld,
) -> None:
    reader, writer = await _connect(limited)
    assert await _closed_after(reader) < HEADER_TIMEOUT + 1.0
    writer.close()


async def test_connections_past_the_cap_are_refused_and_the_slots_come_back(
    limited: OAuthWorld,
) -> None:
    refused = REGISTRY.get_sample_value(REFUSALS, {"reason": "connection_limit"}) or 0.0
    held = [await _connect(limited) for _ in range(MAX_CONNECTIONS)]
    await _until(lambda: _open(limited) == MAX_CONNECTIONS)
    reader, writer = await _connect(limited)
    first = await asyncio.wait_for(reader.read(4096), 2)
    assert first.startswith(b"HTTP/1.1 503")
    assert await asyncio.wait_for(_closed_after(reader), 2) < 1.0
    writer.close()
    assert REGISTRY.get_sample_value(REFUSALS, {"reason": "connection_limit"}) == refused + 1
    for _, held_writer in held:
        held_writer.close()
    await _until(lambda: _open(limited) == 0)
    async with httpx.AsyncClient(timeout=5) as browser:
        answer = await browser.get(f"{limited.callback_url}/google?state=after-the-cap")
    assert answer.status_code in {400, 429}


async def test_a_request_with_a_body_is_refused_unread(limited: OAuthWorld) -> None:
    reader, writer = await _connect(limited, "127.0.0.5")
    writer.write(
        b"GET /oauth/callback/google?state=s HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 1000000\r\n\r\n" + b"x" * 10
    )
    head = await asyncio.wait_for(reader.read(4096), 2)
    assert head.startswith(b"HTTP/1.1 413")
    assert await asyncio.wait_for(_closed_after(reader), 2) < 1.0
    writer.close()


async def test_a_flood_from_one_address_gets_429_while_another_is_served(
    limited: OAuthWorld,
) -> None:
    url = f"{limited.callback_url}/google?state=not-issued&code=c"
    flooder = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(transport=flooder, timeout=5) as browser:
        statuses = [(await browser.get(url)).status_code for _ in range(BURST + 20)]
        throttled = await browser.get(url)
    assert statuses[:BURST] == [400] * BURST
    assert set(statuses[BURST:]) == {429}
    assert 1 <= int(throttled.headers["Retry-After"]) <= 10
    bystander = httpx.AsyncHTTPTransport(local_address="127.0.0.3")
    async with httpx.AsyncClient(transport=bystander, timeout=5) as browser:
        answer = await browser.get(url)
    assert answer.status_code == 400
    assert "state_unknown" in answer.text


async def _until(condition: object, seconds: float = 3.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)
