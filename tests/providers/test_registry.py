"""The provider registry and the checks a credential must pass before it is stored."""

from __future__ import annotations

import json

import pytest

from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    CredentialConfig,
    GcpServiceAccount,
    SecretMaterial,
)
from integration_api.errors import InvalidArgument
from integration_api.providers.registry import PROVIDERS, check_credential, get_provider
from tests.providers.cases import CASES, VERTEX_ACCOUNT

EXPECTED_PROVIDERS = {
    "openai",
    "azure-openai",
    "anthropic",
    "gemini",
    "vertex-ai",
    "bedrock",
    "cohere",
    "mistral",
    "huggingface",
    "replicate",
    "voyageai",
    "deepgram",
    "elevenlabs",
    "cartesia",
    "assemblyai",
    "openai-compatible",
    "twilio",
    "vonage",
    "plivo",
    "telnyx",
    "exotel",
}


def test_registry_lists_every_supported_provider_under_its_own_id() -> None:
    assert set(PROVIDERS) == EXPECTED_PROVIDERS
    assert all(spec.id == provider_id for provider_id, spec in PROVIDERS.items())


def test_every_provider_has_a_conformance_case() -> None:
    assert {case.provider for case in CASES} == EXPECTED_PROVIDERS


def test_unknown_provider_is_refused_on_the_provider_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        get_provider("openia<script>")

    [violation] = caught.value.violations
    assert violation.field == "provider"
    assert "anthropic, assemblyai, azure-openai, bedrock" in violation.description
    assert "openia" not in caught.value.message


def field_violations(provider: str, config: CredentialConfig, secret: SecretMaterial) -> list[str]:
    try:
        check_credential(provider, config, secret)
    except InvalidArgument as error:
        return [f"{violation.field}: {violation.description}" for violation in error.violations]
    return []


def vertex_key_file(**changes: object) -> GcpServiceAccount:
    document = json.loads(VERTEX_ACCOUNT.key_file("https://oauth2.googleapis.com/token"))
    document.update(changes)
    return GcpServiceAccount(json.dumps({k: v for k, v in document.items() if v is not None}))


@pytest.mark.parametrize(
    ("provider", "config", "secret"),
    [
        ("openai", CredentialConfig(), ApiKey("sk-1")),
        ("azure-openai", CredentialConfig(base_url="https://r.openai.azure.com"), AzureKey("k")),
        ("azure-openai", CredentialConfig(base_url="https://r.openai.azure.com"), ApiKey("k")),
        ("bedrock", CredentialConfig(region="us-east-1"), AwsKeys("AKID", "secret")),
        ("vertex-ai", CredentialConfig(region="europe-west4"), vertex_key_file()),
        ("openai-compatible", CredentialConfig(base_url="http://vllm:8000/v1"), ApiKey("")),
    ],
)
def test_well_formed_credentials_pass(
    provider: str, config: CredentialConfig, secret: SecretMaterial
) -> None:
    assert field_violations(provider, config, secret) == []


@pytest.mark.parametrize(
    ("provider", "config", "secret", "expected"),
    [
        ("openai", CredentialConfig(), AwsKeys("a", "b"), ["secret: openai accepts: api_key"]),
        ("openai", CredentialConfig(), ApiKey(""), ["secret: the API key is empty"]),
        (
            "azure-openai",
            CredentialConfig(),
            AzureKey("k"),
            ["config.base_url: is required for azure-openai"],
        ),
        (
            "bedrock",
            CredentialConfig(),
            AzureKey("k"),
            ["secret: bedrock accepts: api_key, aws", "config.region: is required for bedrock"],
        ),
        (
            "vertex-ai",
            CredentialConfig(),
            vertex_key_file(project_id=None),
            [
                "secret: the service-account key has no project_id",
                "config.region: is required for vertex-ai",
            ],
        ),
        (
            "vertex-ai",
            CredentialConfig(region="us-central1"),
            vertex_key_file(token_uri="https://oauth2.googleapis.com/token?x=1"),
            ["secret: the service-account token_uri must not contain a query string"],
        ),
        (
            "openai-compatible",
            CredentialConfig(base_url="https://user:pw@host/v1"),
            ApiKey(""),
            ["config.base_url: must not contain user info"],
        ),
        (
            "bedrock",
            CredentialConfig(region="us-east-1.attacker.example"),
            AwsKeys("AKID", "secret"),
            ["config.region: must be an AWS region name such as us-east-1"],
        ),
        (
            "bedrock",
            CredentialConfig(region="s3-us-west-2"),
            AwsKeys("AKID", "secret"),
            ["config.region: must be an AWS region name such as us-east-1"],
        ),
    ],
)
def test_every_problem_of_a_credential_is_reported_on_its_field(
    provider: str, config: CredentialConfig, secret: SecretMaterial, expected: list[str]
) -> None:
    assert field_violations(provider, config, secret) == expected


def test_violation_messages_never_quote_the_secret() -> None:
    secret = ApiKey("sk-do-not-show-0123456789")

    with pytest.raises(InvalidArgument) as caught:
        check_credential("bedrock", CredentialConfig(), secret)

    assert "do-not-show" not in str(caught.value)
