"""The shared transport: JSON calls, streams, and how failures become typed errors."""

from __future__ import annotations

import asyncio
import secrets
import traceback
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    ServiceError,
    Unavailable,
)
from integration_api.providers.http_client import (
    HttpClientSettings,
    ProviderClient,
    create_http_client,
)
from integration_api.providers.transport import get_json, open_stream, send_json
from integration_api.upstream.limits import UpstreamLimits
from tests.fakes.server import FakeServer, json_response
from tests.providers.conftest import LOOPBACK_POLICY
from tests.support.egress import at_host


def assert_free_of(error: BaseException, secret: str) -> None:
    """Neither the error nor anything a traceback would print of it mentions `secret`."""
    assert secret not in str(error)
    assert secret not in repr(error)
    assert secret not in "".join(traceback.format_exception(error))
    if isinstance(error, ServiceError):
        assert secret not in error.message
        assert all(secret not in value for value in error.metadata.values())


@pytest.fixture
async def truncating_server_url() -> AsyncIterator[str]:
    """A server that promises a long body, sends the start of it, and hangs up."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 5000\r\n\r\n"
            b"data: first\n\n"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_send_json_returns_the_parsed_answer(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    async def echo(request: web.Request) -> web.Response:
        return json_response(201, {"received": await request.json()})

    fake_server.route("POST", "/things", echo)

    response = await send_json(
        http_client, "POST", fake_server.url + "/things", provider="p", json_body={"a": 1}
    )

    assert (response.status_code, response.body) == (201, {"received": {"a": 1}})
    assert fake_server.requests[0].headers["content-type"] == "application/json"


async def test_success_that_is_not_json_is_unavailable(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")

    fake_server.route("GET", "/", html)

    with pytest.raises(Unavailable, match="not JSON"):
        await get_json(http_client, fake_server.url + "/", provider="p")


async def test_key_in_url_query_stays_out_of_connection_errors(
    closed_port_url: str, http_client: ProviderClient
) -> None:
    canary = "AIza" + secrets.token_urlsafe(30)

    with pytest.raises(Unavailable) as caught:
        await get_json(http_client, f"{closed_port_url}/v1beta/models?key={canary}", provider="p")

    port = closed_port_url.rsplit(":", 1)[1]
    assert caught.value.message == f"could not connect to p at 127.0.0.1:{port}: connection refused"
    assert caught.value.__cause__ is None
    assert_free_of(caught.value, canary)


async def test_key_in_url_query_stays_out_of_timeout_errors(
    fake_server: FakeServer, impatient_http_client: ProviderClient
) -> None:
    canary = "AIza" + secrets.token_urlsafe(30)
    fake_server.hang()

    with pytest.raises(DeadlineExceeded) as caught:
        await get_json(
            impatient_http_client, f"{fake_server.url}/m", params={"key": canary}, provider="p"
        )

    assert_free_of(caught.value, canary)


async def test_provider_echoing_the_url_cannot_leak_the_key(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    canary = secrets.token_hex(20)

    async def echo_url(request: web.Request) -> web.Response:
        return json_response(400, {"error": {"message": f"bad request to {request.url}"}})

    fake_server.route("GET", "/m", echo_url)

    url = at_host(fake_server.url, "api.openai.com") + f"/m?key={canary}"
    with pytest.raises(InvalidArgument) as caught:
        await get_json(http_client, url, provider="openai")

    assert "bad request to" in caught.value.message
    assert_free_of(caught.value, canary)


async def test_malformed_url_is_invalid_argument_without_quoting_it(
    http_client: ProviderClient,
) -> None:
    canary = secrets.token_hex(20)

    with pytest.raises(InvalidArgument) as caught:
        await get_json(http_client, f"http://[::1/{canary}", provider="p")

    assert_free_of(caught.value, canary)


async def test_connection_dropped_mid_body_is_unavailable_not_a_timeout(
    truncating_server_url: str, http_client: ProviderClient
) -> None:
    with pytest.raises(Unavailable, match=r"the connection to p at 127\.0\.0\.1:\d+ failed"):
        await get_json(http_client, truncating_server_url, provider="p")


async def test_redirects_are_not_followed_so_keys_stay_with_their_host(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    async with FakeServer() as elsewhere:

        async def redirect(request: web.Request) -> web.Response:
            return web.Response(status=307, headers={"Location": elsewhere.url + "/steal"})

        fake_server.route("GET", "/models", redirect)

        with pytest.raises(FailedPrecondition) as caught:
            await get_json(
                http_client, fake_server.url + "/models", provider="p", headers={"x-api-key": "k"}
            )

        assert caught.value.reason == "PROVIDER_REJECTED_REQUEST"
        assert elsewhere.requests == []


async def test_proxy_settings_of_the_environment_are_ignored(
    fake_server: FakeServer,
    closed_port_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def ok(request: web.Request) -> web.Response:
        return json_response(200, {})

    fake_server.route("GET", "/", ok)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, closed_port_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    async with create_http_client(HttpClientSettings(), LOOPBACK_POLICY) as client:
        response = await get_json(client, fake_server.url + "/", provider="p")

    assert response.status_code == 200


async def test_stream_hands_out_the_body_as_it_arrives(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for word in ("one", "two"):
            await response.write(f"data: {word}\n\n".encode())
        await response.write_eof()
        return response

    fake_server.route("POST", "/stream", events)

    async with open_stream(
        http_client, "POST", fake_server.url + "/stream", provider="p", json_body={}
    ) as response:
        lines = [line async for line in response.aiter_lines() if line]

    assert lines == ["data: one", "data: two"]


async def test_stream_with_error_status_raises_before_any_body_is_read(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    fake_server.answer_with_status(401, {"error": {"message": "invalid x-api-key"}})
    entered = False

    with pytest.raises(FailedPrecondition, match="invalid x-api-key") as caught:
        url = at_host(fake_server.url, "api.anthropic.com") + "/s"
        async with open_stream(http_client, "POST", url, provider="anthropic"):
            entered = True

    assert not entered
    assert caught.value.reason == "CREDENTIAL_REJECTED"


async def test_stream_connection_dropped_while_reading_is_unavailable(
    truncating_server_url: str, http_client: ProviderClient
) -> None:
    received: list[str] = []

    with pytest.raises(Unavailable):
        async with open_stream(http_client, "GET", truncating_server_url, provider="p") as response:
            async for line in response.aiter_lines():
                received.append(line)

    assert received[:1] == ["data: first"]


async def test_failed_streams_release_their_connection(fake_server: FakeServer) -> None:
    fake_server.answer_with_status(503)
    settings = HttpClientSettings(
        pool_timeout_seconds=1.0, limits=UpstreamLimits(max_connections=1)
    )

    async with create_http_client(settings, LOOPBACK_POLICY) as client:
        for _ in range(3):
            with pytest.raises(Unavailable, match="HTTP 503"):
                async with open_stream(client, "GET", fake_server.url + "/s", provider="p"):
                    pass

    assert len(fake_server.requests) == 3


async def test_cookies_a_provider_sets_never_ride_along_on_later_requests(
    fake_server: FakeServer,
) -> None:
    async def set_cookie(request: web.Request) -> web.Response:
        return json_response(200, {}, headers={"Set-Cookie": "session=tenant-a; Path=/"})

    fake_server.route("GET", "/models", set_cookie)
    async with create_http_client(HttpClientSettings(), LOOPBACK_POLICY) as client:
        for _call in range(2):
            await get_json(client, fake_server.url + "/models", provider="p")
    assert [request.headers.get("cookie") for request in fake_server.requests] == [None, None]
