"""The capabilities a provider module can offer, one Protocol each, and their result types.

A provider implements only what it supports; `registry.PROVIDERS` says which object serves
which capability for which provider id. Every method receives the process-wide
`httpx.AsyncClient`, so tests hand in one that talks to a local server.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    RerankAnswer,
    RerankQuery,
)
from integration_api.llm.contract import ChatRequest, StreamPart
from integration_api.upstream.timer import UpstreamTimer

VerificationOutcome = Literal["valid", "invalid", "unreachable"]


@dataclass(frozen=True)
class VerificationResult:
    """What a credential check found.

    `valid`: the provider accepted the credential. `invalid`: it refused it (bad, revoked or
    misconfigured). `unreachable`: no verdict (network failure, timeout, 5xx, rate limit).
    `message` is meant for people; it is sanitized and never contains secret material.
    """

    outcome: VerificationOutcome
    latency_ms: int
    message: str


class CredentialVerifier(Protocol):
    """Checks a credential with the cheapest authenticated call its provider offers."""

    async def verify(
        self, credential: ProviderCredential, http: httpx.AsyncClient
    ) -> VerificationResult:
        """Never raises for what the provider or the network does; that is the outcome."""
        ...


class ChatModel(Protocol):
    """Streams one chat answer from a provider, translated to the normalized parts."""

    @property
    def provider(self) -> str: ...

    def default_model(self, credential: ProviderCredential) -> str:
        """The model to use when the request names none ('' when the credential has none)."""
        ...

    def stream_chat(
        self,
        credential: ProviderCredential,
        request: ChatRequest,
        http: httpx.AsyncClient,
        timer: UpstreamTimer,
    ) -> AsyncGenerator[StreamPart, None]:
        """The parts of one answer, ending with exactly one `Finish`.

        Raises the typed error that ended the answer instead. Time spent waiting on the
        provider is added to `timer`.
        """
        ...


class EmbeddingModel(Protocol):
    """Embeds one batch of texts; `limits` says how large a batch may be."""

    @property
    def provider(self) -> str: ...

    @property
    def limits(self) -> BatchLimits: ...

    def default_model(self, credential: ProviderCredential) -> str:
        """The model to use when the request names none ('' when the credential has none)."""
        ...

    async def embed(
        self,
        credential: ProviderCredential,
        batch: EmbedBatch,
        http: httpx.AsyncClient,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        """One vector per input, in order; raises the typed error of a failed call."""
        ...


class RerankModel(Protocol):
    """Scores documents against a query with one provider call."""

    @property
    def provider(self) -> str: ...

    def default_model(self, credential: ProviderCredential) -> str:
        """The model to use when the request names none ('' when the credential has none)."""
        ...

    async def rerank(
        self,
        credential: ProviderCredential,
        query: RerankQuery,
        http: httpx.AsyncClient,
        timer: UpstreamTimer,
    ) -> RerankAnswer:
        """The provider's ranking of `query.documents`, at most `query.top_n` results.

        Each result names its document by position in `query.documents`; the pipeline checks
        the positions and puts the results best first. Raises the typed error of a failed call.
        """
        ...
