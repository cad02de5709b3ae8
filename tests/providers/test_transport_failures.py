"""Each way a provider call can fail to get an answer is named, with the host and port.

Real sockets on loopback, through the shared client: a closed port, a name in `.invalid` (which
never resolves), a TLS server with a self-signed certificate, one whose certificate names
another host, and servers that accept a connection and never answer.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import aiohttp
import pytest

from integration_api.errors import DeadlineExceeded, ServiceError, Unavailable
from integration_api.providers.egress import EgressPolicy
from integration_api.providers.http_client import (
    HttpClientSettings,
    ProviderClient,
    create_http_client,
)
from integration_api.providers.transport import get_json
from integration_api.providers.transport_failures import transport_error
from integration_api.upstream.allow_list import parse_allow_list
from tests.providers.test_transport import assert_free_of
from tests.support.self_signed import SelfSigned, make_self_signed, silent_server, tls_server

# The system resolver, as in production: `.invalid` names are guaranteed never to resolve.
SYSTEM_DNS_POLICY = EgressPolicy(allow=parse_allow_list(("127.0.0.0/8", "*.invalid")))

ClientFactory = Callable[..., AbstractAsyncContextManager[ProviderClient]]


@pytest.fixture
def client_for() -> ClientFactory:
    def create(**settings: float) -> ProviderClient:
        options = {"connect_timeout_seconds": 5.0, **settings}
        return create_http_client(
            HttpClientSettings(**options),  # type: ignore[arg-type]
            SYSTEM_DNS_POLICY,
        )

    return create


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSigned:
    return make_self_signed(tmp_path_factory.mktemp("tls"), "localhost")


def _secret_bearing(base: str) -> tuple[str, str]:
    """A URL under `base` whose path and query carry a canary, and the canary."""
    canary = secrets.token_hex(16)
    return f"{base}/v1/{canary}/models?key={canary}", canary


async def _failure(client: ProviderClient, url: str, canary: str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        await get_json(client, url, provider="openai")
    assert_free_of(caught.value, canary)
    return caught.value


async def test_a_closed_port_is_connection_refused_with_host_and_port(
    client_for: ClientFactory, closed_port_url: str
) -> None:
    url, canary = _secret_bearing(closed_port_url)
    port = closed_port_url.rsplit(":", 1)[1]
    async with client_for() as client:
        error = await _failure(client, url, canary)

    assert isinstance(error, Unavailable)
    assert error.message == f"could not connect to openai at 127.0.0.1:{port}: connection refused"
    assert error.metadata["transport_failure"] == "connection_refused"
    assert (error.metadata["host"], error.metadata["port"]) == ("127.0.0.1", port)


async def test_a_name_that_does_not_resolve_says_so(client_for: ClientFactory) -> None:
    url, canary = _secret_bearing("https://no-such-provider.invalid")
    async with client_for() as client:
        error = await _failure(client, url, canary)

    assert isinstance(error, Unavailable)
    assert error.message == (
        "could not connect to openai at no-such-provider.invalid:443: "
        "the host name could not be resolved"
    )
    assert error.metadata["transport_failure"] == "name_not_resolved"
    assert (error.metadata["host"], error.metadata["port"]) == ("no-such-provider.invalid", "443")


async def test_a_self_signed_certificate_fails_verification_by_name(
    client_for: ClientFactory, certificate: SelfSigned
) -> None:
    async with tls_server(certificate.server_context()) as port, client_for() as client:
        url, canary = _secret_bearing(f"https://127.0.0.1:{port}")
        error = await _failure(client, url, canary)

    assert isinstance(error, Unavailable)
    assert error.message == (
        f"could not connect to openai at 127.0.0.1:{port}: "
        "TLS certificate verify failed: self-signed certificate"
    )
    assert error.metadata["transport_failure"] == "tls_certificate_invalid"


async def test_a_tls_server_that_never_answers_the_handshake_is_a_connect_timeout(
    client_for: ClientFactory,
) -> None:
    async with silent_server() as port, client_for(connect_timeout_seconds=0.3) as client:
        url, canary = _secret_bearing(f"https://127.0.0.1:{port}")
        error = await _failure(client, url, canary)

    assert isinstance(error, Unavailable)
    assert error.message == (
        f"could not connect to openai at 127.0.0.1:{port}: "
        "no connection within 0.3 s (connect timeout)"
    )
    assert error.metadata["transport_failure"] == "connect_timeout"


async def test_a_server_that_accepts_and_never_answers_is_a_read_timeout(
    client_for: ClientFactory,
) -> None:
    async with silent_server() as port, client_for(read_timeout_seconds=0.25) as client:
        url, canary = _secret_bearing(f"http://127.0.0.1:{port}")
        error = await _failure(client, url, canary)

    assert isinstance(error, DeadlineExceeded)
    assert error.message == (
        f"openai at 127.0.0.1:{port} did not answer in time (no data for 0.25 s)"
    )
    assert error.metadata["transport_failure"] == "read_timeout"


async def _handshake_failure(url: str, trusted: ssl.SSLContext) -> Exception:
    """What an aiohttp client trusting the certificate raises for it."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url, ssl=trusted):
            pass
    except Exception as failure:  # noqa: BLE001 - the failure is what the test examines
        return failure
    raise AssertionError("the handshake succeeded")


async def test_a_certificate_for_another_host_is_a_hostname_mismatch(
    certificate: SelfSigned,
) -> None:
    # Only a client that trusts the certificate gets as far as comparing names, and the shared
    # client trusts public CAs only: the failure comes from a plain client and is mapped.
    async with tls_server(certificate.server_context()) as port:
        url = f"https://127.0.0.1:{port}/v1/models"
        failure = await _handshake_failure(url, certificate.trusting_client_context())
    error = transport_error(failure, "openai", url)

    assert error.message == (
        f"could not connect to openai at 127.0.0.1:{port}: "
        "the TLS certificate is not valid for 127.0.0.1"
    )
    assert error.metadata["transport_failure"] == "tls_hostname_mismatch"


async def test_tls_to_a_plain_text_server_is_a_handshake_failure(
    client_for: ClientFactory,
) -> None:
    async def answer_in_plain_text(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_in_plain_text, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, client_for() as client:
        url, canary = _secret_bearing(f"https://127.0.0.1:{port}")
        error = await _failure(client, url, canary)

    assert isinstance(error, Unavailable)
    assert error.message.startswith(
        f"could not connect to openai at 127.0.0.1:{port}: the TLS handshake failed ("
    )
    assert error.metadata["transport_failure"] == "tls_handshake_failed"
