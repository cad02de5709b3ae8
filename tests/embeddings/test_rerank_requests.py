"""Rerank requests are checked before any provider is called, and providers without reranking
answer CAPABILITY_NOT_SUPPORTED."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import RerankRequest, RerankResponse
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from integration_api.embeddings.rerank_bounds import (
    MAX_RERANK_DOCUMENT_CHARACTERS,
    MAX_RERANK_DOCUMENTS,
    MAX_RERANK_QUERY_CHARACTERS,
)
from tests.credentials.helpers import error_info, field_violations
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService

DOCUMENTS = ["Paris is the capital of France.", "Berlin has many bridges."]


async def rerank(
    embeddings: EmbeddingServiceStub, service: RunningService, request: RerankRequest
) -> RerankResponse | grpc.aio.AioRpcError:
    try:
        return await embeddings.rerank(request, metadata=service.auth(), timeout=10)
    except grpc.aio.AioRpcError as error:
        return error


def _request(credential: str, **fields: object) -> RerankRequest:
    request = RerankRequest(
        credential_id=credential, model="rerank-model", query="capital", documents=DOCUMENTS
    )
    for name, value in fields.items():
        setattr(request, name, value)
    return request


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"documents": []}, "documents"),
        ({"documents": ["fine", "  "]}, "documents[1]"),
        ({"documents": ["a"] * (MAX_RERANK_DOCUMENTS + 1)}, "documents"),
        ({"documents": ["x" * (MAX_RERANK_DOCUMENT_CHARACTERS // 2 + 1)] * 2}, "documents"),
        ({"query": " "}, "query"),
        ({"query": "q" * (MAX_RERANK_QUERY_CHARACTERS + 1)}, "query"),
        ({"top_n": 0}, "top_n"),
        ({"credential_id": ""}, "credential_id"),
    ],
)
async def test_a_request_no_provider_could_take_is_refused_naming_its_field(
    fields: dict[str, object],
    field: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for["openai"]
    response = await rerank(embeddings, service, _request(upstream.credential_id, **fields))
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(response)
    assert upstream.replay.requests == []


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
async def test_a_provider_without_reranking_answers_capability_not_supported(
    provider: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    response = await rerank(embeddings, service, _request(upstream.credential_id))
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(response)
    assert info.reason == "CAPABILITY_NOT_SUPPORTED"
    assert info.metadata["provider"] == provider
    assert upstream.replay.requests == []
