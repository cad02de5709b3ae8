"""Base URL and region rules: where a key may be sent."""

from __future__ import annotations

import pytest

from integration_api.credentials.model import CredentialConfig
from integration_api.errors import InvalidArgument
from integration_api.providers.endpoints import (
    join_url,
    resolve_base_url,
    validate_base_url,
    validate_region,
)
from integration_api.providers.registry import DEFAULT_BASE_URLS


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "https://my-resource.openai.azure.com/",
        "http://127.0.0.1:8000/v1",
        "http://vllm.internal:8080",
        "https://[::1]:8443/v1",
    ],
)
def test_usable_base_urls_pass(url: str) -> None:
    assert validate_base_url(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "must start with http:// or https://"),
        ("api.openai.com/v1", "must start with http:// or https://"),
        ("ftp://files.example.com", "must start with http:// or https://"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("https://", "must name a host"),
        ("https:///v1", "must name a host"),
        ("https://user:password@api.example.com", "must not contain user info"),
        ("https://token@api.example.com", "must not contain user info"),
        ("https://api.example.com/v1?key=abc", "must not contain a query string"),
        ("https://api.example.com/v1?", "must not contain a query string"),
        ("https://api.example.com/v1#part", "must not contain a fragment"),
        ("https://api.example.com:99999", "is not a valid URL"),
        ("https://api.exa mple.com", "must not contain whitespace or control characters"),
        ("https://api.example.com/\n", "must not contain whitespace or control characters"),
        ("https://[::1/v1", "is not a valid URL"),
        ("https://example.com/" + "a" * 2100, "must be at most 2048 characters"),
    ],
)
def test_unusable_base_urls_say_why(url: str, problem: str) -> None:
    assert validate_base_url(url) == problem


@pytest.mark.parametrize("region", ["us-east-1", "europe-west4", "global", "ap-southeast-2"])
def test_cloud_region_names_pass(region: str) -> None:
    assert validate_region(region) is None


@pytest.mark.parametrize(
    "region", ["", "US-EAST-1", "evil.com/x", "us-east-1.evil.com", "a b", "us-east-1#"]
)
def test_region_that_could_change_a_host_name_is_refused(region: str) -> None:
    assert validate_region(region) is not None


def test_configured_base_url_wins_over_the_default() -> None:
    config = CredentialConfig(base_url="https://proxy.example.com/v1/")

    assert resolve_base_url("openai", config) == "https://proxy.example.com/v1"


def test_provider_default_is_used_without_configuration() -> None:
    assert resolve_base_url("openai", CredentialConfig()) == DEFAULT_BASE_URLS["openai"]


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-central1", "https://us-central1-aiplatform.googleapis.com"),
        ("global", "https://aiplatform.googleapis.com"),
    ],
)
def test_vertex_default_follows_its_location(region: str, expected: str) -> None:
    assert resolve_base_url("vertex-ai", CredentialConfig(region=region)) == expected


@pytest.mark.parametrize(
    ("provider", "config", "field"),
    [
        ("azure-openai", CredentialConfig(), "config.base_url"),
        ("openai-compatible", CredentialConfig(), "config.base_url"),
        ("bedrock", CredentialConfig(), "config.base_url"),
        ("openai", CredentialConfig(base_url="https://x.example/?key=1"), "config.base_url"),
        ("bedrock", CredentialConfig(region="us-east-1.evil.com"), "config.region"),
    ],
)
def test_missing_or_unusable_endpoint_is_an_invalid_field(
    provider: str, config: CredentialConfig, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        resolve_base_url(provider, config)

    assert [violation.field for violation in caught.value.violations] == [field]


def test_every_default_base_url_is_https_and_valid() -> None:
    for url in DEFAULT_BASE_URLS.values():
        assert url.startswith("https://")
        assert validate_base_url(url) is None


@pytest.mark.parametrize(
    ("base", "path"), [("https://h/v1", "models"), ("https://h/v1/", "/models")]
)
def test_join_url_puts_exactly_one_slash_between(base: str, path: str) -> None:
    assert join_url(base, path) == "https://h/v1/models"
