"""Storing a credential with limits, and calling chat and embeddings through a running service."""

from __future__ import annotations

import secrets
from typing import Protocol

import grpc
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ChatRequest,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialLimits,
    CredentialSecret,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from tests.llm.support import Answer, chat, user_says
from tests.support.service import RunningService

Metadata = tuple[tuple[str, str], ...]
KEY = "sk-gate-" + "k" * 24


class Reachable(Protocol):
    """A service in this process or another: its channel and tokens for its tenant."""

    @property
    def channel(self) -> grpc.aio.Channel: ...

    def auth(self) -> Metadata: ...


async def store_limited(
    service: Reachable, base_url: str, limits: CredentialLimits | None = None
) -> str:
    reply = await CredentialServiceStub(service.channel).create_credential(
        CreateCredentialRequest(
            provider="openai-compatible",
            name=f"gated-{secrets.token_hex(3)}",
            secret=CredentialSecret(api_key=ApiKeySecret(key=KEY)),
            config=CredentialConfig(base_url=base_url, default_model="m", limits=limits),
            skip_verification=True,
        ),
        metadata=service.auth(),
    )
    assert reply.credential is not None
    return reply.credential.id


async def say_hi(service: RunningService, credential_id: str) -> Answer:
    request = ChatRequest(credential_id=credential_id, messages=user_says())
    return await chat(LlmServiceStub(service.channel), service, request)
