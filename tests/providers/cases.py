"""One verification case per provider: its fake, its credential, and its wire format.

The conformance suite runs every behaviour over every case here; adding a provider adds a case.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

import jwt

from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    CredentialConfig,
    ExotelAccount,
    GcpServiceAccount,
    PlivoAccount,
    ProviderCredential,
    SecretMaterial,
    TelnyxAccount,
    TwilioAccount,
    VonageAccount,
)
from tests.fakes import provider_apis, telephony_accounts
from tests.fakes.aws_sigv4 import AwsAccount, install_bedrock_control_plane
from tests.fakes.google_oauth import TOKEN_PATH, FakeServiceAccount, install_token_endpoint
from tests.fakes.server import FakeServer, RecordedRequest

Installer = Callable[[FakeServer, str], None]
SecretFactory = Callable[[str, str], SecretMaterial]
WireCheck = Callable[[RecordedRequest, str], None]

AWS_ACCESS_KEY_ID = "AKIDEXAMPLE0000TEST"
AWS_REGION = "us-east-1"
VERTEX_REGION = "us-central1"
VERTEX_ACCOUNT = FakeServiceAccount.generate()
# Same account name, another key pair: what a deleted or rotated key looks like to Google.
VERTEX_IMPOSTOR = FakeServiceAccount.generate(VERTEX_ACCOUNT.client_email)


@dataclass(frozen=True)
class ProviderCase:
    provider: str
    install: Installer
    make_secret: SecretFactory
    method: str
    path: str
    check_wire: WireCheck
    base_path: str = ""
    region: str = ""
    uses_base_url: bool = True

    def __str__(self) -> str:
        return self.provider

    def good_key(self) -> str:
        return f"{self.provider}-good-{_KEY_SUFFIX}"

    def credential(self, server_url: str, key: str) -> ProviderCredential:
        base_url = server_url + self.base_path if self.uses_base_url else ""
        return ProviderCredential(
            id="credential-1",
            provider=self.provider,
            config=CredentialConfig(base_url=base_url, region=self.region),
            secret=self.make_secret(key, server_url),
        )


_KEY_SUFFIX = secrets.token_urlsafe(24)


def _api_key(key: str, server_url: str) -> SecretMaterial:
    return ApiKey(key=key)


def _endpoint(endpoint: provider_apis.KeyCheckedEndpoint) -> Installer:
    return lambda server, good_key: endpoint.install(server, {good_key})


def _header(name: str, prefix: str = "") -> WireCheck:
    def check(request: RecordedRequest, key: str) -> None:
        assert request.headers.get(name.lower()) == prefix + key

    return check


def _cartesia_wire(request: RecordedRequest, key: str) -> None:
    _bearer_only(request, key)
    assert request.headers.get("cartesia-version") == "2026-03-01"


def _bearer_only(request: RecordedRequest, key: str) -> None:
    _header("Authorization", "Bearer ")(request, key)
    assert "key" not in request.query


def _azure_wire(request: RecordedRequest, key: str) -> None:
    _header("api-key")(request, key)
    assert "authorization" not in request.headers
    assert request.query == {"api-version": "2024-10-21"}


def _anthropic_wire(request: RecordedRequest, key: str) -> None:
    _header("x-api-key")(request, key)
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.query == {"limit": "1"}


def _gemini_wire(request: RecordedRequest, key: str) -> None:
    _header("x-goog-api-key")(request, key)
    assert "key" not in request.query, "the key must not travel in the URL"
    assert request.query == {"pageSize": "1"}


def _voyage_wire(request: RecordedRequest, key: str) -> None:
    _bearer_only(request, key)
    assert request.json() == {"input": ["ping"], "model": "voyage-3.5-lite"}


def _bedrock_secret(key: str, server_url: str) -> SecretMaterial:
    return AwsKeys(access_key_id=AWS_ACCESS_KEY_ID, secret_access_key=key)


def _bedrock_install(server: FakeServer, good_key: str) -> None:
    install_bedrock_control_plane(server, [AwsAccount(AWS_ACCESS_KEY_ID, good_key)], AWS_REGION)


def _bedrock_wire(request: RecordedRequest, key: str) -> None:
    authorization = request.headers["authorization"]
    date = request.headers["x-amz-date"][:8]
    scope = f"Credential={AWS_ACCESS_KEY_ID}/{date}/{AWS_REGION}/bedrock/aws4_request"
    assert authorization.startswith(f"AWS4-HMAC-SHA256 {scope}, SignedHeaders=")
    assert key not in authorization


def _vertex_secret(key: str, server_url: str) -> SecretMaterial:
    account = VERTEX_ACCOUNT if key == VERTEX.good_key() else VERTEX_IMPOSTOR
    token_uri = server_url + TOKEN_PATH
    return GcpServiceAccount(json_text=account.key_file(token_uri, private_key_id=key))


def _vertex_install(server: FakeServer, good_key: str) -> None:
    install_token_endpoint(server, [VERTEX_ACCOUNT])


def _vertex_wire(request: RecordedRequest, key: str) -> None:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {name: values[0] for name, values in parse_qs(request.body.decode()).items()}
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assertion = form["assertion"]
    assert jwt.get_unverified_header(assertion) == {"alg": "RS256", "typ": "JWT", "kid": key}
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert claims["iss"] == VERTEX_ACCOUNT.client_email
    assert claims["aud"].endswith(TOKEN_PATH)
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert claims["exp"] - claims["iat"] == 3600


VERTEX = ProviderCase(
    "vertex-ai",
    _vertex_install,
    _vertex_secret,
    "POST",
    TOKEN_PATH,
    _vertex_wire,
    region=VERTEX_REGION,
    uses_base_url=False,
)

CASES: list[ProviderCase] = [
    ProviderCase(
        "openai",
        _endpoint(provider_apis.OPENAI),
        _api_key,
        "GET",
        "/v1/models",
        _bearer_only,
        base_path="/v1",
    ),
    ProviderCase(
        "azure-openai",
        _endpoint(provider_apis.AZURE_OPENAI),
        lambda key, url: AzureKey(api_key=key),
        "GET",
        "/openai/models",
        _azure_wire,
    ),
    ProviderCase(
        "anthropic",
        _endpoint(provider_apis.ANTHROPIC),
        _api_key,
        "GET",
        "/v1/models",
        _anthropic_wire,
    ),
    ProviderCase(
        "gemini", _endpoint(provider_apis.GEMINI), _api_key, "GET", "/v1beta/models", _gemini_wire
    ),
    VERTEX,
    ProviderCase(
        "bedrock",
        _bedrock_install,
        _bedrock_secret,
        "GET",
        "/foundation-models",
        _bedrock_wire,
        region=AWS_REGION,
    ),
    ProviderCase(
        "cohere",
        _endpoint(provider_apis.COHERE),
        _api_key,
        "POST",
        "/v1/check-api-key",
        _bearer_only,
    ),
    ProviderCase(
        "mistral",
        _endpoint(provider_apis.MISTRAL),
        _api_key,
        "GET",
        "/v1/models",
        _bearer_only,
        base_path="/v1",
    ),
    ProviderCase(
        "huggingface",
        _endpoint(provider_apis.HUGGINGFACE),
        _api_key,
        "GET",
        "/api/whoami-v2",
        _bearer_only,
    ),
    ProviderCase(
        "replicate",
        _endpoint(provider_apis.REPLICATE),
        _api_key,
        "GET",
        "/v1/account",
        _bearer_only,
    ),
    ProviderCase(
        "voyageai",
        _endpoint(provider_apis.VOYAGEAI),
        _api_key,
        "POST",
        "/v1/embeddings",
        _voyage_wire,
        base_path="/v1",
    ),
    ProviderCase(
        "deepgram",
        _endpoint(provider_apis.DEEPGRAM),
        _api_key,
        "GET",
        "/v1/projects",
        _header("Authorization", "Token "),
    ),
    ProviderCase(
        "elevenlabs",
        _endpoint(provider_apis.ELEVENLABS),
        _api_key,
        "GET",
        "/v1/user",
        _header("xi-api-key"),
    ),
    ProviderCase(
        "cartesia",
        _endpoint(provider_apis.CARTESIA),
        _api_key,
        "GET",
        "/voices",
        _cartesia_wire,
    ),
    ProviderCase(
        "assemblyai",
        _endpoint(provider_apis.ASSEMBLYAI),
        _api_key,
        "GET",
        "/v2/transcript",
        _header("Authorization"),
    ),
    ProviderCase(
        "openai-compatible",
        _endpoint(provider_apis.OPENAI_COMPATIBLE),
        _api_key,
        "GET",
        "/v1/models",
        _bearer_only,
        base_path="/v1",
    ),
]


def _basic(user: str) -> WireCheck:
    def check(request: RecordedRequest, key: str) -> None:
        pair = base64.b64encode(f"{user}:{key}".encode()).decode()
        assert request.headers.get("authorization") == f"Basic {pair}"
        assert request.query == {}

    return check


TELEPHONY_CASES: list[ProviderCase] = [
    ProviderCase(
        "twilio",
        _endpoint(telephony_accounts.TWILIO),
        lambda key, url: TwilioAccount(
            account_sid=telephony_accounts.TWILIO_ACCOUNT_SID, auth_token=key
        ),
        "GET",
        f"/2010-04-01/Accounts/{telephony_accounts.TWILIO_ACCOUNT_SID}.json",
        _basic(telephony_accounts.TWILIO_ACCOUNT_SID),
    ),
    ProviderCase(
        "vonage",
        _endpoint(telephony_accounts.VONAGE),
        lambda key, url: VonageAccount(api_key=telephony_accounts.VONAGE_API_KEY, api_secret=key),
        "GET",
        "/account/get-balance",
        _basic(telephony_accounts.VONAGE_API_KEY),
    ),
    ProviderCase(
        "plivo",
        _endpoint(telephony_accounts.PLIVO),
        lambda key, url: PlivoAccount(auth_id=telephony_accounts.PLIVO_AUTH_ID, auth_token=key),
        "GET",
        f"/v1/Account/{telephony_accounts.PLIVO_AUTH_ID}/",
        _basic(telephony_accounts.PLIVO_AUTH_ID),
    ),
    ProviderCase(
        "telnyx",
        _endpoint(telephony_accounts.TELNYX),
        lambda key, url: TelnyxAccount(api_key=key),
        "GET",
        "/v2/balance",
        _bearer_only,
    ),
    ProviderCase(
        "exotel",
        _endpoint(telephony_accounts.EXOTEL),
        lambda key, url: ExotelAccount(
            api_key=telephony_accounts.EXOTEL_API_KEY,
            api_token=key,
            account_sid=telephony_accounts.EXOTEL_ACCOUNT_SID,
        ),
        "GET",
        f"/v1/Accounts/{telephony_accounts.EXOTEL_ACCOUNT_SID}/Balance.json",
        _basic(telephony_accounts.EXOTEL_API_KEY),
    ),
]
CASES += TELEPHONY_CASES
