"""Rerank through the real server for every provider that ranks: order, top_n, usage, errors."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import RerankRequest, RerankResponse
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.credentials.helpers import error_info
from tests.embeddings.test_rerank_requests import rerank
from tests.fakes.replay_rerank import ranking, tokens_of
from tests.llm.snapshots import assert_matches_snapshot, request_snapshot
from tests.llm.support import Answer
from tests.llm.upstreams import DEFAULT_MODELS, RERANK_MODELS, RERANK_PROVIDERS, Upstream
from tests.support.service import RunningService

QUERY = "capital of France"
DOCUMENTS = [
    "Berlin is the capital of Germany.",
    "Paris is the capital of France.",
    "The mat is where the cat sat.",
    "France is known for its cheese.",
    "Madrid is the capital of Spain.",
]
# Where each provider's request says how many results to return.
TOP_N_FIELDS = {"cohere": "top_n", "voyageai": "top_k"}
# A model the provider does not serve: Voyage answers 400 "is not supported", Cohere 404.
MODEL_NOT_FOUND_CODES = {
    "cohere": grpc.StatusCode.NOT_FOUND,
    "voyageai": grpc.StatusCode.INVALID_ARGUMENT,
}


def rerank_request(upstream: Upstream, top_n: int | None = None, model: str = "") -> RerankRequest:
    return RerankRequest(
        credential_id=upstream.credential_id,
        model=model or RERANK_MODELS[upstream.provider],
        query=QUERY,
        documents=DOCUMENTS,
        top_n=top_n,
    )


def ranked(response: RerankResponse | grpc.aio.AioRpcError) -> list[tuple[int, float]]:
    assert isinstance(response, RerankResponse), response
    return [(result.index, result.relevance_score) for result in response.results]


@pytest.mark.parametrize("provider", RERANK_PROVIDERS)
async def test_every_document_comes_back_best_first_with_its_index_and_score(
    provider: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    response = await rerank(embeddings, service, rerank_request(upstream))

    assert ranked(response) == ranking(QUERY, DOCUMENTS, None)
    assert ranked(response)[0][0] == 1
    (sent,) = upstream.replay.requests
    assert TOP_N_FIELDS[provider] not in sent.json(), "absent top_n asks for every document"
    assert isinstance(response, RerankResponse) and response.usage is not None
    assert response.model == RERANK_MODELS[provider]
    if provider == "cohere":
        assert response.search_units == 1
        assert response.usage.input_tokens is None
    else:
        assert response.search_units is None
        assert response.usage.input_tokens == tokens_of(QUERY, DOCUMENTS)


@pytest.mark.parametrize(
    ("provider", "top_n", "sent_top_n"),
    [
        (provider, top_n, sent)
        for provider in RERANK_PROVIDERS
        for top_n, sent in ((2, 2), (len(DOCUMENTS) + 10, len(DOCUMENTS)))
    ],
)
async def test_top_n_is_sent_and_honoured_and_never_exceeds_the_documents(
    provider: str,
    top_n: int,
    sent_top_n: int,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    response = await rerank(embeddings, service, rerank_request(upstream, top_n=top_n))

    assert ranked(response) == ranking(QUERY, DOCUMENTS, sent_top_n)
    (sent,) = upstream.replay.requests
    assert sent.json()[TOP_N_FIELDS[provider]] == sent_top_n


@pytest.mark.parametrize("provider", RERANK_PROVIDERS)
async def test_the_request_matches_its_snapshot_and_the_default_model_is_used(
    provider: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    await rerank(embeddings, service, rerank_request(upstream, top_n=3))
    (sent,) = upstream.replay.requests
    snapshot = request_snapshot(sent, upstream.key, upstream.replay.layout.base_path)
    assert_matches_snapshot(provider, "rerank_top_n", snapshot)

    unnamed = rerank_request(upstream)
    unnamed.model = ""
    await rerank(embeddings, service, unnamed)
    assert upstream.replay.requests[-1].json()["model"] == DEFAULT_MODELS[provider]


@pytest.mark.parametrize(
    ("provider", "script", "code"),
    [
        (provider, script, code)
        for provider in RERANK_PROVIDERS
        for script, code in (
            (("unauthorized.http",), grpc.StatusCode.FAILED_PRECONDITION),
            (("rate_limited.http",), grpc.StatusCode.RESOURCE_EXHAUSTED),
            (("model_not_found.http",), MODEL_NOT_FOUND_CODES[provider]),
            (("server_error.http", "embeddings"), grpc.StatusCode.OK),
        )
    ],
)
async def test_provider_failures_map_to_statuses_and_transient_ones_are_retried(
    provider: str,
    script: tuple[str, ...],
    code: grpc.StatusCode,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    upstream.replay.play(*script)
    response = await rerank(embeddings, service, rerank_request(upstream))
    if code == grpc.StatusCode.OK:
        assert ranked(response) == ranking(QUERY, DOCUMENTS, None)
        assert len(upstream.replay.requests) == 2
        return
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == code
    assert error_info(response).metadata["provider"] == provider
    if code == grpc.StatusCode.NOT_FOUND:
        model = RERANK_MODELS[provider]
        assert (response.details() or "").startswith(
            f'model "{model}" not found at {provider} (HTTP 404)'
        )
        assert error_info(response).reason == "MODEL_NOT_FOUND"
        assert error_info(response).metadata["model"] == model
    assert upstream.key not in (response.details() or "")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        assert Answer(error=response).retry_delay_seconds() == 20


async def test_a_ranking_that_names_a_document_the_request_lacks_is_refused(
    embeddings: EmbeddingServiceStub, service: RunningService, upstream_for: dict[str, Upstream]
) -> None:
    upstream = upstream_for["cohere"]
    upstream.replay.play("rerank_unknown_index.http")
    response = await rerank(embeddings, service, rerank_request(upstream))
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(response).reason == "PROVIDER_BAD_RESPONSE"
