"""EmbeddingService: embeds texts and ranks documents through a stored credential."""

from __future__ import annotations

import grpc.aio
from integration_api_proto.integration.v1 import (
    EmbedRequest,
    EmbedResponse,
    RerankRequest,
    RerankResponse,
    grpc_aio,
)

from integration_api.call_context import require_principal
from integration_api.embeddings.converters import (
    embed_request_from_message,
    embed_response_from_result,
    rerank_request_from_message,
    rerank_response_from_answer,
)
from integration_api.embeddings.pipeline import EmbeddingService
from integration_api.embeddings.rerank import RerankService
from integration_api.llm.timing import Deadline
from integration_api.providers.registry import embedding_model_for, rerank_model_for
from integration_api.runtime import Runtime


def embedding_service(runtime: Runtime) -> EmbeddingService:
    """The embedding pipeline over the runtime's credentials, provider client and tenant slots."""
    return EmbeddingService(
        runtime.credential_ops,
        lambda: runtime.http,
        embedding_model_for,
        tenant_calls=runtime.tenant_calls,
        limits=runtime.settings.upstream,
        max_message_bytes=runtime.settings.grpc.max_message_bytes,
    )


def rerank_service(runtime: Runtime) -> RerankService:
    """The rerank pipeline over the runtime's credentials, provider client and tenant slots."""
    return RerankService(
        runtime.credential_ops,
        lambda: runtime.http,
        rerank_model_for,
        tenant_calls=runtime.tenant_calls,
    )


class EmbeddingServicer(grpc_aio.EmbeddingServiceBase):
    def __init__(self, embeddings: EmbeddingService, rerank: RerankService) -> None:
        self._embeddings = embeddings
        self._rerank = rerank

    async def embed(
        self, request: EmbedRequest, context: grpc.aio.ServicerContext[EmbedRequest, EmbedResponse]
    ) -> EmbedResponse:
        call = embed_request_from_message(request)
        deadline = Deadline.after(context.time_remaining())
        result = await self._embeddings.embed(require_principal().tenant, call, deadline)
        return embed_response_from_result(result)

    async def rerank(
        self,
        request: RerankRequest,
        context: grpc.aio.ServicerContext[RerankRequest, RerankResponse],
    ) -> RerankResponse:
        call = rerank_request_from_message(request)
        deadline = Deadline.after(context.time_remaining())
        answer = await self._rerank.rerank(require_principal().tenant, call, deadline)
        return rerank_response_from_answer(answer)
