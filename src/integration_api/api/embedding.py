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
from integration_api.providers.http_client import ProviderClient


class EmbeddingServicer(grpc_aio.EmbeddingServiceBase):
    def __init__(
        self, embeddings: EmbeddingService[ProviderClient], rerank: RerankService[ProviderClient]
    ) -> None:
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
