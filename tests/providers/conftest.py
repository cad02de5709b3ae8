"""Fixtures for the provider layer: real clients, fakes, a dead port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from integration_api.providers.egress import EgressPolicy
from integration_api.providers.http_client import (
    HttpClientSettings,
    ProviderClient,
    create_http_client,
)
from integration_api.upstream.allow_list import parse_allow_list
from tests.fakes.server import FakeServer
from tests.providers.cases import CASES, ProviderCase
from tests.support.egress import resolve_provider_hosts_to_loopback
from tests.support.service import LOOPBACK_EGRESS_ALLOW

# Long enough for a loaded 2-core machine to answer a local request, short enough to keep the
# hanging-provider tests quick.
SHORT_READ_TIMEOUT_SECONDS = 0.25

# Provider tests talk to local fakes: their policy lists loopback, as an operator would.
# Provider host names resolve to the fakes (`tests.support.egress.at_host`).
LOOPBACK_POLICY = EgressPolicy(
    allow=parse_allow_list(LOOPBACK_EGRESS_ALLOW), resolve=resolve_provider_hosts_to_loopback
)


@pytest.fixture
async def http_client() -> AsyncIterator[ProviderClient]:
    settings = HttpClientSettings(connect_timeout_seconds=2.0)
    async with create_http_client(settings, LOOPBACK_POLICY) as client:
        yield client


@pytest.fixture
async def impatient_http_client() -> AsyncIterator[ProviderClient]:
    settings = HttpClientSettings(read_timeout_seconds=SHORT_READ_TIMEOUT_SECONDS)
    async with create_http_client(settings, LOOPBACK_POLICY) as client:
        yield client


@pytest.fixture
async def fake_server() -> AsyncIterator[FakeServer]:
    async with FakeServer() as server:
        yield server


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> ProviderCase:
    provider_case: ProviderCase = request.param
    return provider_case


@pytest.fixture
async def provider_fake(case: ProviderCase) -> AsyncIterator[FakeServer]:
    """The case's provider, started, accepting the case's good key."""
    async with FakeServer() as server:
        case.install(server, case.good_key())
        yield server


@pytest.fixture
def closed_port_url() -> str:
    """An address on loopback where nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
