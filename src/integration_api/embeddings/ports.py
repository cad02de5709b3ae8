"""What the embedding and rerank pipelines need from a provider, one Protocol each.

A provider implements only what it supports; `providers.registry` says which object serves
which capability for which provider id. Every call receives the process-wide HTTP client, so
tests hand in one that talks to a local server.
"""

from __future__ import annotations

from typing import Protocol

from integration_api.credentials.model import ProviderCredential
from integration_api.embeddings.contract import (
    BatchLimits,
    EmbedBatch,
    EmbedBatchResult,
    RerankAnswer,
    RerankQuery,
)
from integration_api.llm.ports import ClientT_contra
from integration_api.upstream.timer import UpstreamTimer


class EmbeddingModel(Protocol[ClientT_contra]):
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
        http: ClientT_contra,
        timer: UpstreamTimer,
    ) -> EmbedBatchResult:
        """One vector per input, in order; raises the typed error of a failed call."""
        ...


class RerankModel(Protocol[ClientT_contra]):
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
        http: ClientT_contra,
        timer: UpstreamTimer,
    ) -> RerankAnswer:
        """The provider's ranking of `query.documents`, at most `query.top_n` results.

        Each result names its document by position in `query.documents`; the pipeline checks
        the positions and puts the results best first. Raises the typed error of a failed call.
        """
        ...
