"""EmbeddingService: embeds texts through a stored credential (rerank is not offered yet)."""

from __future__ import annotations

import grpc.aio
from integration_api_proto.integration.v1 import EmbedRequest, EmbedResponse, grpc_aio

from integration_api.embeddings.converters import (
    embed_request_from_message,
    embed_response_from_result,
)
from integration_api.embeddings.pipeline import EmbeddingService
from integration_api.llm.timing import Deadline
from integration_api.providers.registry import embedding_model_for
from integration_api.runtime import Runtime
from integration_api.server.context import require_principal


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


class EmbeddingServicer(grpc_aio.EmbeddingServiceBase):
    def __init__(self, embeddings: EmbeddingService) -> None:
        self._embeddings = embeddings

    async def embed(
        self, request: EmbedRequest, context: grpc.aio.ServicerContext[EmbedRequest, EmbedResponse]
    ) -> EmbedResponse:
        call = embed_request_from_message(request)
        deadline = Deadline.after(context.time_remaining())
        result = await self._embeddings.embed(require_principal().tenant, call, deadline)
        return embed_response_from_result(result)
