"""Provider-specific verification behaviour beyond the shared conformance suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    CredentialConfig,
    GcpServiceAccount,
    ProviderCredential,
    SecretMaterial,
)
from integration_api.providers.anthropic import verification as anthropic_verification
from integration_api.providers.aws import verification as bedrock
from integration_api.providers.cohere import verification as cohere
from integration_api.providers.deepgram import verification as deepgram
from integration_api.providers.elevenlabs import verification as elevenlabs
from integration_api.providers.google import gemini
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.openai import family as openai_family
from integration_api.providers.registry import DEFAULT_BASE_URLS, get_provider
from integration_api.providers.replicate import verification as replicate
from integration_api.providers.verification import ProbeRequest
from integration_api.providers.voyage import verification as voyageai
from tests.fakes import provider_apis
from tests.fakes.aws_sigv4 import AwsAccount, install_bedrock_control_plane
from tests.fakes.google_oauth import TOKEN_PATH, FakeServiceAccount, install_token_endpoint
from tests.fakes.server import FakeServer, json_response
from tests.providers.cases import AWS_REGION, VERTEX_ACCOUNT
from tests.support.egress import at_host


def credential(
    provider: str,
    secret: SecretMaterial,
    base_url: str = "",
    *,
    region: str = "",
    api_version: str = "",
) -> ProviderCredential:
    return ProviderCredential(
        id="credential-1",
        provider=provider,
        config=CredentialConfig(base_url=base_url, region=region, api_version=api_version),
        secret=secret,
    )


async def verify(subject: ProviderCredential, http: ProviderClient) -> tuple[str, str]:
    result = await get_provider(subject.provider).verifier.verify(subject, http)
    return result.outcome, result.message


async def test_cohere_key_reported_not_valid_with_200_is_invalid(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    provider_apis.COHERE.install(
        fake_server, set(), special={"old-key": provider_apis.COHERE_KEY_CHECK_INACTIVE}
    )

    outcome, message = await verify(
        credential("cohere", ApiKey("old-key"), fake_server.url), http_client
    )

    assert (outcome, message) == ("invalid", "cohere reports the API key is not valid")


async def test_elevenlabs_key_without_user_read_permission_is_valid(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    provider_apis.ELEVENLABS.install(
        fake_server, set(), special={"scoped": provider_apis.ELEVENLABS_MISSING_PERMISSION}
    )

    outcome, message = await verify(
        credential("elevenlabs", ApiKey("scoped"), fake_server.url), http_client
    )

    assert outcome == "valid"
    assert "user_read" in message


async def test_bedrock_keys_without_list_permission_are_valid(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    account = AwsAccount("AKIDLIMITED000000000", "limited-secret-key", may_list_models=False)
    install_bedrock_control_plane(fake_server, [account], AWS_REGION)
    keys = AwsKeys(account.access_key_id, account.secret_access_key)

    outcome, message = await verify(
        credential("bedrock", keys, fake_server.url, region=AWS_REGION), http_client
    )

    assert outcome == "valid"
    assert "ListFoundationModels" in message


async def test_bedrock_unknown_access_key_is_invalid(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    install_bedrock_control_plane(fake_server, [AwsAccount("AKIDKNOWN", "secret")], AWS_REGION)
    keys = AwsKeys("AKIDUNKNOWN", "secret")

    url = at_host(fake_server.url, f"bedrock.{AWS_REGION}.amazonaws.com")
    outcome, message = await verify(
        credential("bedrock", keys, url, region=AWS_REGION), http_client
    )

    assert outcome == "invalid"
    assert "security token included in the request is invalid" in message


async def test_bedrock_session_token_is_sent_and_signed(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    account = AwsAccount("ASIATEMPORARY0000000", "temporary-secret", session_token="session-1")
    install_bedrock_control_plane(fake_server, [account], AWS_REGION)
    keys = AwsKeys(account.access_key_id, account.secret_access_key, account.session_token)

    outcome, _ = await verify(
        credential("bedrock", keys, fake_server.url, region=AWS_REGION), http_client
    )

    assert outcome == "valid"
    [request] = fake_server.requests
    assert request.headers["x-amz-security-token"] == "session-1"
    assert "x-amz-security-token" in request.headers["authorization"]


async def test_bedrock_without_region_is_invalid_without_a_request(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    outcome, message = await verify(
        credential("bedrock", AwsKeys("AKID", "secret"), fake_server.url), http_client
    )

    assert outcome == "invalid"
    assert "config.region" in message
    assert fake_server.requests == []


async def test_vertex_key_file_that_is_not_json_is_invalid(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    secret = GcpServiceAccount("not json at all")

    outcome, message = await verify(
        credential("vertex-ai", secret, region="us-central1"), http_client
    )

    assert outcome == "invalid"
    assert "not a JSON object" in message


async def test_vertex_unusable_private_key_is_invalid_and_not_quoted(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    document = json.loads(VERTEX_ACCOUNT.key_file(fake_server.url + TOKEN_PATH))
    document["private_key"] = (
        "-----BEGIN PRIVATE KEY-----\nnotakeyatall0123456789\n-----END PRIVATE KEY-----\n"
    )
    secret = GcpServiceAccount(json.dumps(document))

    outcome, message = await verify(
        credential("vertex-ai", secret, region="us-central1"), http_client
    )

    assert outcome == "invalid"
    assert "not a usable RSA key" in message
    assert "notakeyatall" not in message
    assert fake_server.requests == []


async def test_vertex_token_endpoint_answering_without_a_token_is_unreachable(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    async def empty_answer(request: web.Request) -> web.Response:
        return json_response(200, {"token_type": "Bearer"})

    fake_server.route("POST", TOKEN_PATH, empty_answer)
    secret = GcpServiceAccount(VERTEX_ACCOUNT.key_file(fake_server.url + TOKEN_PATH))

    outcome, message = await verify(
        credential("vertex-ai", secret, region="us-central1"), http_client
    )

    assert (outcome, message) == (
        "unreachable",
        "the vertex-ai token endpoint returned no access token",
    )


async def test_vertex_token_request_proves_the_signature_to_the_token_endpoint(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    other_account = FakeServiceAccount.generate("other@fake-project.iam.gserviceaccount.com")
    install_token_endpoint(fake_server, [VERTEX_ACCOUNT, other_account])
    secret = GcpServiceAccount(other_account.key_file(fake_server.url + TOKEN_PATH))

    outcome, _ = await verify(credential("vertex-ai", secret, region="us-central1"), http_client)

    assert outcome == "valid"


@pytest.mark.parametrize(
    ("configured", "expected_path", "expected_query"),
    [
        ("", "/openai/models", {"api-version": "2024-10-21"}),
        ("/openai", "/openai/models", {"api-version": "2024-10-21"}),
        ("/openai/v1", "/openai/v1/models", {}),
    ],
)
async def test_azure_probe_follows_the_configured_surface(
    fake_server: FakeServer,
    http_client: ProviderClient,
    configured: str,
    expected_path: str,
    expected_query: dict[str, str],
) -> None:
    provider_apis.AZURE_OPENAI.install(fake_server, {"azure-key"})
    provider_apis.AZURE_OPENAI_V1.install(fake_server, {"azure-key"})
    subject = credential("azure-openai", AzureKey("azure-key"), fake_server.url + configured)

    outcome, _ = await verify(subject, http_client)

    assert outcome == "valid"
    [request] = fake_server.requests
    assert (request.path, request.query) == (expected_path, expected_query)


async def test_azure_configured_api_version_is_used(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    provider_apis.AZURE_OPENAI.install(fake_server, {"azure-key"})
    subject = credential(
        "azure-openai", ApiKey("azure-key"), fake_server.url, api_version="2025-01-01-preview"
    )

    outcome, _ = await verify(subject, http_client)

    assert outcome == "valid"
    assert fake_server.requests[0].query == {"api-version": "2025-01-01-preview"}


async def test_openai_compatible_server_without_auth_is_verified_without_a_key(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    provider_apis.OPENAI_COMPATIBLE.install(fake_server, {""})

    outcome, _ = await verify(
        credential("openai-compatible", ApiKey(""), fake_server.url + "/v1"), http_client
    )

    assert outcome == "valid"
    assert "authorization" not in fake_server.requests[0].headers


async def test_openai_compatible_url_that_is_not_an_openai_api_is_inconclusive(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    async def some_other_json(request: web.Request) -> web.Response:
        return json_response(200, {"status": "ok"})

    fake_server.route("GET", "/v1/models", some_other_json)

    outcome, message = await verify(
        credential("openai-compatible", ApiKey("k"), fake_server.url + "/v1"), http_client
    )

    assert (outcome, message) == (
        "unreachable",
        "inconclusive, not a verdict on the key: "
        "the endpoint did not answer like an OpenAI-compatible API",
    )


@pytest.mark.parametrize(
    ("body", "expected_outcome"),
    [
        (
            {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}},
            "unreachable",
        ),
        (
            {"error": {"message": "You exceeded your quota", "type": "insufficient_quota"}},
            "unreachable",
        ),
    ],
)
async def test_openai_rate_limit_and_spent_quota_are_not_verdicts_on_the_key(
    fake_server: FakeServer,
    http_client: ProviderClient,
    body: dict[str, object],
    expected_outcome: str,
) -> None:
    fake_server.answer_with_status(429, body, headers={"retry-after": "2"})

    outcome, _ = await verify(
        credential("openai", ApiKey("k"), fake_server.url + "/v1"), http_client
    )

    assert outcome == expected_outcome


async def test_anthropic_overloaded_is_unreachable(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_server.answer_with_status(529, overloaded)

    url = at_host(fake_server.url, "api.anthropic.com")
    outcome, message = await verify(credential("anthropic", ApiKey("k"), url), http_client)

    assert outcome == "unreachable"
    assert message == "anthropic is unavailable (HTTP 529): Overloaded"


def _host(url: str) -> str:
    return str(urlsplit(url).hostname)


@pytest.mark.parametrize(
    ("provider", "build"),
    [
        ("openai", openai_family.OPENAI.verification_request),
        ("mistral", openai_family.MISTRAL.verification_request),
        ("anthropic", anthropic_verification.verification_request),
        ("gemini", gemini.verification_request),
        ("cohere", cohere.verification_request),
        ("replicate", replicate.verification_request),
        ("voyageai", voyageai.verification_request),
        ("deepgram", deepgram.verification_request),
        ("elevenlabs", elevenlabs.verification_request),
    ],
)
def test_key_goes_to_the_provider_default_host_when_no_base_url_is_configured(
    provider: str, build: Callable[[ProviderCredential], ProbeRequest]
) -> None:
    probe = build(credential(provider, ApiKey("k")))

    assert probe.url.startswith("https://")
    assert _host(probe.url) == _host(DEFAULT_BASE_URLS[provider])


def test_huggingface_token_is_checked_on_the_hub_by_default() -> None:
    probe = openai_family.HUGGINGFACE.verification_request(credential("huggingface", ApiKey("k")))

    assert probe.url == "https://huggingface.co/api/whoami-v2"


def test_bedrock_default_host_follows_the_region() -> None:
    probe = bedrock.verification_request(
        credential("bedrock", AwsKeys("AKID", "secret"), region="eu-west-3")
    )

    assert probe.url == "https://bedrock.eu-west-3.amazonaws.com/foundation-models"


async def test_region_that_could_change_the_host_is_refused_without_a_request(
    http_client: ProviderClient,
) -> None:
    subject = credential("bedrock", AwsKeys("AKID", "secret"), region="evil.example/x")

    outcome, message = await verify(subject, http_client)

    assert outcome == "invalid"
    assert "config.region" in message
