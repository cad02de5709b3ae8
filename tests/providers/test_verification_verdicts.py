"""`invalid` means the provider refused the key; any other answer leaves the key's state unknown."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from integration_api.credentials.model import ApiKey, CredentialConfig, ProviderCredential
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.registry import DEFAULT_BASE_URLS, get_provider
from tests.fakes.server import FakeServer
from tests.support.egress import at_host

INCONCLUSIVE = "inconclusive, not a verdict on the key: "
GOOGLE_BAD_KEY = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
        ],
    }
}
GOOGLE_BAD_PAGE_SIZE = {
    "error": {"code": 400, "message": "Invalid page size.", "status": "INVALID_ARGUMENT"}
}
VOYAGE_UNKNOWN_MODEL = {"detail": "Model voyage-3.5-lite is not supported."}
ANTHROPIC_NOT_FOUND = {"type": "error", "error": {"type": "not_found_error", "message": "nope"}}
OPENAI_BAD_KEY = {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}

REFUSALS = [
    ("openai", 401, OPENAI_BAD_KEY),
    ("openai", 403, {"error": {"message": "Project is not allowed", "type": "permission_error"}}),
    ("gemini", 400, GOOGLE_BAD_KEY),
    ("anthropic", 401, {"type": "error", "error": {"type": "authentication_error"}}),
]
NOT_ABOUT_THE_KEY = [
    ("voyageai", 400, VOYAGE_UNKNOWN_MODEL, "Model voyage-3.5-lite is not supported."),
    ("gemini", 400, GOOGLE_BAD_PAGE_SIZE, "Invalid page size."),
    ("openai", 404, {"error": {"message": "Unknown path"}}, "(HTTP 404)"),
    ("anthropic", 404, ANTHROPIC_NOT_FOUND, "(HTTP 404)"),
    ("replicate", 422, {"detail": "unprocessable"}, "(HTTP 422)"),
    ("deepgram", 405, None, "(HTTP 405)"),
]


def _credential(provider: str, server_url: str) -> ProviderCredential:
    # Addressed by the provider's own host name (resolved to the fake), whose text is quoted.
    own_host = urlsplit(DEFAULT_BASE_URLS[provider]).hostname or ""
    return ProviderCredential(
        id="credential-1",
        provider=provider,
        config=CredentialConfig(base_url=at_host(server_url, own_host)),
        secret=ApiKey("key-under-test-0000"),
    )


@pytest.mark.parametrize(("provider", "status", "body"), REFUSALS)
async def test_the_provider_refusing_the_key_is_invalid(
    fake_server: FakeServer,
    http_client: ProviderClient,
    provider: str,
    status: int,
    body: object,
) -> None:
    fake_server.answer_with_status(status, body)

    result = await get_provider(provider).verifier.verify(
        _credential(provider, fake_server.url), http_client
    )

    assert result.outcome == "invalid"
    assert not result.message.startswith(INCONCLUSIVE)


@pytest.mark.parametrize(("provider", "status", "body", "quoted"), NOT_ABOUT_THE_KEY)
async def test_an_answer_about_the_probe_rather_than_the_key_is_inconclusive(
    fake_server: FakeServer,
    http_client: ProviderClient,
    provider: str,
    status: int,
    body: object,
    quoted: str,
) -> None:
    fake_server.answer_with_status(status, body)

    result = await get_provider(provider).verifier.verify(
        _credential(provider, fake_server.url), http_client
    )

    assert result.outcome == "unreachable"
    assert result.message.startswith(INCONCLUSIVE)
    assert quoted in result.message
