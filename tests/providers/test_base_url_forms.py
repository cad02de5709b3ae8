"""`base_url` with or without the version path under which a provider's whole API lives."""

from __future__ import annotations

import pytest

from integration_api.credentials.model import ApiKey, CredentialConfig, ProviderCredential
from integration_api.providers.endpoints import resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.registry import get_provider
from tests.fakes import provider_apis
from tests.fakes.server import FakeServer


@pytest.mark.parametrize(
    ("provider", "endpoint"),
    [
        ("openai", provider_apis.OPENAI),
        ("mistral", provider_apis.MISTRAL),
        ("voyageai", provider_apis.VOYAGEAI),
    ],
)
@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
async def test_a_base_url_with_or_without_the_version_path_reaches_the_api(
    fake_server: FakeServer,
    http_client: ProviderClient,
    provider: str,
    endpoint: provider_apis.KeyCheckedEndpoint,
    suffix: str,
) -> None:
    endpoint.install(fake_server, {"good-key"})
    config = CredentialConfig(base_url=fake_server.url + suffix)
    credential = ProviderCredential("c-1", provider, config, ApiKey("good-key"))

    result = await get_provider(provider).verifier.verify(credential, http_client)

    assert result.outcome == "valid", result.message
    assert [request.path for request in fake_server.requests] == [endpoint.path]


@pytest.mark.parametrize(
    ("provider", "base_url", "resolved"),
    [
        ("mistral", "http://host:8000", "http://host:8000/v1"),
        ("openai", "https://gw.example/openai/v1", "https://gw.example/openai/v1"),
        ("openai-compatible", "http://host:8000", "http://host:8000"),
        ("anthropic", "http://host:8000", "http://host:8000"),
    ],
)
def test_only_versioned_providers_get_the_version_path_added(
    provider: str, base_url: str, resolved: str
) -> None:
    assert resolve_base_url(provider, CredentialConfig(base_url=base_url)) == resolved
