"""Replay servers for every provider with chat, with a stored credential pointing at each."""

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
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.fakes.replay import ReplayServer
from tests.support.service import RunningService

# The OpenAI wire family: chat and embeddings in one dialect.
PROVIDERS = ("openai", "azure-openai", "mistral", "huggingface", "openai-compatible")
# Every provider the chat conformance suite runs.
CHAT_PROVIDERS = (*PROVIDERS, "anthropic")

# The model each credential names as its default (for Azure: the deployment).
DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "azure-openai": "gpt-4o-prod",
    "mistral": "mistral-small-latest",
    "huggingface": "meta-llama/Llama-3.1-8B-Instruct",
    "openai-compatible": "Qwen/Qwen2.5-7B-Instruct",
    "anthropic": "claude-sonnet-4-5",
}
EMBEDDING_MODELS = {
    "openai": "text-embedding-3-small",
    "azure-openai": "embeddings-prod",
    "mistral": "mistral-embed",
    "huggingface": "BAAI/bge-small-en-v1.5",
    "openai-compatible": "nomic-embed-text",
}


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
    return CredentialConfig(base_url=base_url, default_model=model)


def key_for(provider: str) -> str:
    """A key shaped like the provider's (none for the self-hosted server)."""
    if provider == "openai-compatible":
        return ""
    prefixes = {"huggingface": "hf_", "anthropic": "sk-ant-api03-"}
    prefix = prefixes.get(provider, "sk-test-")
    return prefix + secrets.token_urlsafe(24)


async def store_credential(
    service: RunningService,
    provider: str,
    base_url: str,
    key: str,
    default_model: str | None = None,
    **tenant: str,
) -> str:
    stub = CredentialServiceStub(service.channel)
    reply = await stub.create_credential(
        CreateCredentialRequest(
            provider=provider,
            name=f"{provider}-{secrets.token_hex(3)}",
            secret=_secret(provider, key),
            config=_config(provider, base_url, default_model),
            skip_verification=True,
        ),
        metadata=service.auth(**tenant),
    )
    assert reply.credential is not None
    return reply.credential.id


@asynccontextmanager
async def upstreams(service: RunningService) -> AsyncIterator[dict[str, Upstream]]:
    """Every provider's replay server started, and a credential stored for each."""
    async with AsyncExitStack() as stack:
        found: dict[str, Upstream] = {}
        for provider in CHAT_PROVIDERS:
            replay = await stack.enter_async_context(ReplayServer(provider))
            key = key_for(provider)
            credential_id = await store_credential(service, provider, replay.base_url, key)
            found[provider] = Upstream(provider, replay, credential_id, key)
        yield found
