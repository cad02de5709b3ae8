"""EmbeddingService: embeds texts and ranks documents through a stored credential or route."""

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
from integration_api.routes.converters import (
    embed_response_from_routed,
    rerank_response_from_routed,
)
from integration_api.routes.embeddings import RoutedEmbeddings


class EmbeddingServicer(grpc_aio.EmbeddingServiceBase):
    def __init__(
        self,
        embeddings: EmbeddingService[ProviderClient],
        rerank: RerankService[ProviderClient],
        routed: RoutedEmbeddings[ProviderClient],
    ) -> None:
        self._embeddings = embeddings
        self._rerank = rerank
        self._routed = routed

    async def embed(
        self, request: EmbedRequest, context: grpc.aio.ServicerContext[EmbedRequest, EmbedResponse]
    ) -> EmbedResponse:
        call = embed_request_from_message(request)
        deadline = Deadline.after(context.time_remaining())
        tenant = require_principal().tenant
        if request.route_id:
            routed = await self._routed.embed(tenant, request.route_id, call, deadline)
            return embed_response_from_routed(routed)
        result = await self._embeddings.embed(tenant, call, deadline)
        return embed_response_from_result(result)

    async def rerank(
        self,
        request: RerankRequest,
        context: grpc.aio.ServicerContext[RerankRequest, RerankResponse],
    ) -> RerankResponse:
        call = rerank_request_from_message(request)
        deadline = Deadline.after(context.time_remaining())
        tenant = require_principal().tenant
        if request.route_id:
            routed = await self._routed.rerank(tenant, request.route_id, call, deadline)
            return rerank_response_from_routed(routed)
        answer = await self._rerank.rerank(tenant, call, deadline)
        return rerank_response_from_answer(answer)
