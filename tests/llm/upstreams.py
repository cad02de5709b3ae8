"""Replay servers for every chat provider, with a stored credential pointing at each.

Vertex AI's credential is a service-account key whose token endpoint is a fake Google OAuth
server; the access token it issues is that upstream's `key` (what must never leak, and what
request snapshots show as `<key>`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AzureSecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    GcpServiceAccountSecret,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.fakes.google_oauth import TOKEN_PATH, FakeServiceAccount, install_token_endpoint
from tests.fakes.replay import ReplayServer
from tests.fakes.server import FakeServer
from tests.support.service import RunningService

OPENAI_FAMILY = ("openai", "azure-openai", "mistral", "huggingface", "openai-compatible")
GOOGLE = ("gemini", "vertex-ai")
# Chat and embeddings.
PROVIDERS = OPENAI_FAMILY + GOOGLE
# Every provider the chat conformance suite runs.
CHAT_PROVIDERS = (*PROVIDERS, "anthropic", "cohere", "replicate")
# Chat providers without tool calling.
TOOLLESS_CHAT_PROVIDERS = ("replicate",)
# Every provider the embedding suite runs.
EMBEDDING_PROVIDERS = (*PROVIDERS, "cohere", "voyageai")
# Every provider the rerank suite runs.
RERANK_PROVIDERS = ("cohere", "voyageai")
# Every provider with a replay server, once each.
ALL_PROVIDERS = tuple(dict.fromkeys((*CHAT_PROVIDERS, *EMBEDDING_PROVIDERS, *RERANK_PROVIDERS)))
VERTEX_REGION = "us-central1"

# The model each credential names as its default (for Azure: the deployment).
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "azure-openai": "gpt-4o-prod",
    "mistral": "mistral-small-latest",
    "huggingface": "meta-llama/Llama-3.1-8B-Instruct",
    "openai-compatible": "Qwen/Qwen2.5-7B-Instruct",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
    "vertex-ai": "gemini-2.5-flash",
    "cohere": "command-a-03-2025",
    "voyageai": "voyage-3.5",
    "replicate": "meta/meta-llama-3-8b-instruct",
}
EMBEDDING_MODELS = {
    "openai": "text-embedding-3-small",
    "azure-openai": "embeddings-prod",
    "mistral": "mistral-embed",
    "huggingface": "BAAI/bge-small-en-v1.5",
    "openai-compatible": "nomic-embed-text",
    "gemini": "gemini-embedding-001",
    "vertex-ai": "text-embedding-005",
    "cohere": "embed-v4.0",
    "voyageai": "voyage-3.5",
}
RERANK_MODELS = {"cohere": "rerank-v3.5", "voyageai": "rerank-2.5"}


@dataclass
class Upstream:
    """One provider under test: its replay server, its stored credential and its key."""

    provider: str
    replay: ReplayServer
    credential_id: str
    key: str

    def reset(self) -> None:
        """Forget earlier requests and scripts, so a test sees only its own traffic."""
        self.replay.fake.requests.clear()
        self.replay.play("embeddings")
        self.replay.disconnects = 0
        self.replay.streams_completed = 0
        self.replay.went_away = asyncio.Event()


def _secret(provider: str, key: str) -> CredentialSecret:
    if provider == "azure-openai":
        return CredentialSecret(azure=AzureSecret(api_key=key))
    return CredentialSecret(api_key=ApiKeySecret(key=key))


def _config(provider: str, base_url: str, default_model: str | None) -> CredentialConfig:
    model = DEFAULT_MODELS[provider] if default_model is None else default_model
    if provider == "azure-openai":
        return CredentialConfig(base_url=base_url, deployment=model, api_version="2024-10-21")
    if provider == "vertex-ai":
        return CredentialConfig(base_url=base_url, default_model=model, region=VERTEX_REGION)
    return CredentialConfig(base_url=base_url, default_model=model)


def key_for(provider: str) -> str:
    """A key shaped like the provider's (none for the self-hosted server)."""
    if provider == "openai-compatible":
        return ""
    prefixes = {"huggingface": "hf_", "gemini": "AIzaSy", "anthropic": "sk-ant-api03-"}
    return prefixes.get(provider, "sk-test-") + secrets.token_urlsafe(24)


async def store_credential(
    service: RunningService,
    provider: str,
    base_url: str,
    key: str,
    default_model: str | None = None,
    secret: CredentialSecret | None = None,
    **tenant: str,
) -> str:
    stub = CredentialServiceStub(service.channel)
    reply = await stub.create_credential(
        CreateCredentialRequest(
            provider=provider,
            name=f"{provider}-{secrets.token_hex(3)}",
            secret=secret or _secret(provider, key),
            config=_config(provider, base_url, default_model),
            skip_verification=True,
        ),
        metadata=service.auth(**tenant),
    )
    assert reply.credential is not None
    return reply.credential.id


def service_account_secret(account: FakeServiceAccount, token_uri: str) -> CredentialSecret:
    return CredentialSecret(
        gcp_service_account=GcpServiceAccountSecret(json=account.key_file(token_uri))
    )


@asynccontextmanager
async def upstreams(service: RunningService) -> AsyncIterator[dict[str, Upstream]]:
    """Every provider's replay server started, and a credential stored for each."""
    async with AsyncExitStack() as stack:
        token_server = await stack.enter_async_context(FakeServer())
        account = FakeServiceAccount.generate()
        access_token = "ya29.replay-" + secrets.token_urlsafe(24)
        install_token_endpoint(
            token_server, [account], lambda: {"access_token": access_token, "expires_in": 3599}
        )
        found: dict[str, Upstream] = {}
        for provider in ALL_PROVIDERS:
            replay = await stack.enter_async_context(ReplayServer(provider))
            key, secret = key_for(provider), None
            if provider == "vertex-ai":
                key = access_token
                secret = service_account_secret(account, token_server.url + TOKEN_PATH)
            credential_id = await store_credential(
                service, provider, replay.base_url, key, secret=secret
            )
            found[provider] = Upstream(provider, replay, credential_id, key)
        yield found
