"""Every provider's credential check, run against a local server that answers as the provider does.

Each behaviour runs for every provider and over both HTTP transports.
"""

from __future__ import annotations

import logging
import secrets

import pytest

from integration_api.providers.http_client import ProviderClient
from integration_api.providers.registry import get_provider
from tests.fakes.server import FakeServer
from tests.providers.cases import ProviderCase
from tests.providers.conftest import SHORT_READ_TIMEOUT_SECONDS


async def test_good_credential_is_valid(
    case: ProviderCase, provider_fake: FakeServer, http_client: ProviderClient
) -> None:
    credential = case.credential(provider_fake.url, case.good_key())

    result = await get_provider(case.provider).verifier.verify(credential, http_client)

    assert result.outcome == "valid", result.message
    assert result.latency_ms >= 0
    assert len(provider_fake.requests) == 1


async def test_bad_credential_is_invalid(
    case: ProviderCase, provider_fake: FakeServer, http_client: ProviderClient
) -> None:
    credential = case.credential(provider_fake.url, f"{case.provider}-revoked-key-0123456789")

    result = await get_provider(case.provider).verifier.verify(credential, http_client)

    assert result.outcome == "invalid"
    assert "rejected the credential" in result.message


async def test_request_matches_the_provider_wire_format(
    case: ProviderCase, provider_fake: FakeServer, http_client: ProviderClient
) -> None:
    key = case.good_key()

    await get_provider(case.provider).verifier.verify(
        case.credential(provider_fake.url, key), http_client
    )

    [request] = provider_fake.requests
    assert (request.method, request.path) == (case.method, case.path)
    case.check_wire(request, key)


async def test_upstream_server_error_is_unreachable(
    case: ProviderCase, provider_fake: FakeServer, http_client: ProviderClient
) -> None:
    provider_fake.answer_with_status(500)

    result = await get_provider(case.provider).verifier.verify(
        case.credential(provider_fake.url, case.good_key()), http_client
    )

    assert result.outcome == "unreachable"
    assert "HTTP 500" in result.message


async def test_closed_port_is_unreachable(
    case: ProviderCase, closed_port_url: str, http_client: ProviderClient
) -> None:
    result = await get_provider(case.provider).verifier.verify(
        case.credential(closed_port_url, case.good_key()), http_client
    )

    assert result.outcome == "unreachable"
    assert "could not connect" in result.message


async def test_provider_slower_than_the_timeout_is_unreachable(
    case: ProviderCase, provider_fake: FakeServer, impatient_http_client: ProviderClient
) -> None:
    provider_fake.hang()

    result = await get_provider(case.provider).verifier.verify(
        case.credential(provider_fake.url, case.good_key()), impatient_http_client
    )

    assert result.outcome == "unreachable"
    assert "did not answer in time" in result.message
    assert result.latency_ms >= SHORT_READ_TIMEOUT_SECONDS * 1000 * 0.9


@pytest.mark.parametrize("upstream_status", [401, 500])
async def test_canary_key_never_appears_in_the_result_or_logs(
    case: ProviderCase,
    provider_fake: FakeServer,
    http_client: ProviderClient,
    caplog: pytest.LogCaptureFixture,
    upstream_status: int,
) -> None:
    canary = "canary" + secrets.token_hex(16)
    provider_fake.echo_credentials = True
    if upstream_status != 401:
        provider_fake.answer_with_status(
            upstream_status, {"error": {"message": f"boom for key {canary}"}}
        )
    caplog.set_level(logging.DEBUG)

    result = await get_provider(case.provider).verifier.verify(
        case.credential(provider_fake.url, canary), http_client
    )

    assert result.outcome in ("invalid", "unreachable")
    assert canary not in result.message
    assert canary not in repr(result)
    assert canary not in caplog.text
