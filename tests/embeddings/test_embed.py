"""Embed through the real server for every provider: order, batching, translation, errors."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import EmbedRequest, EmbedResponse, InputType
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from integration_api.providers.registry import embedding_model_for
from tests.credentials.helpers import error_info, field_violations
from tests.fakes.replay_embeddings import DEFAULT_DIMENSIONS, vector_for
from tests.llm.snapshots import assert_matches_snapshot, request_snapshot
from tests.llm.support import Answer
from tests.llm.upstreams import EMBEDDING_MODELS, EMBEDDING_PROVIDERS, Upstream
from tests.support.service import RunningService

TEXTS = ["The cat sat on the mat.", "Voice agents need fast answers.", "Paris in spring"]
# Every provider but Hugging Face and the Gemini API reports the tokens it counted.
REPORTS_USAGE = {
    provider: provider not in ("huggingface", "gemini") for provider in EMBEDDING_PROVIDERS
}
# Where each provider lists a request's texts.
INPUTS_FIELDS = {
    "huggingface": "inputs",
    "gemini": "requests",
    "vertex-ai": "instances",
    "cohere": "texts",
}
# Providers that need to know what the texts are for (Cohere); the suite says documents.
REQUIRES_INPUT_TYPE = {"cohere"}
# A model the provider does not serve: Voyage answers 400 "is not supported", the others 404.
MODEL_NOT_FOUND_CODES = {"voyageai": grpc.StatusCode.INVALID_ARGUMENT}


def query_marker_sent(provider: str, body: dict[str, Any]) -> object:
    """How a request said its texts are queries, for the providers that can say it."""
    if provider == "huggingface":
        return body["prompt_name"]
    if provider == "gemini":
        return {item["taskType"] for item in body["requests"]}
    if provider == "vertex-ai":
        return {instance["task_type"] for instance in body["instances"]}
    if provider in ("cohere", "voyageai"):
        return body["input_type"]
    return None


QUERY_MARKERS = {"huggingface": "query", "gemini": {"RETRIEVAL_QUERY"}}
QUERY_MARKERS["vertex-ai"] = {"RETRIEVAL_QUERY"}
QUERY_MARKERS["cohere"] = "search_query"
QUERY_MARKERS["voyageai"] = "query"


def embed_request(upstream: Upstream, inputs: list[str], **fields: object) -> EmbedRequest:
    request = EmbedRequest(
        credential_id=upstream.credential_id,
        model=EMBEDDING_MODELS[upstream.provider],
        inputs=inputs,
    )
    if upstream.provider in REQUIRES_INPUT_TYPE:
        request.input_type = InputType.DOCUMENT
    for name, value in fields.items():
        setattr(request, name, value)
    return request


async def embed(
    embeddings: EmbeddingServiceStub, service: RunningService, request: EmbedRequest
) -> EmbedResponse | grpc.aio.AioRpcError:
    try:
        return await embeddings.embed(request, metadata=service.auth(), timeout=10)
    except grpc.aio.AioRpcError as error:
        return error


def vectors_of(response: EmbedResponse | grpc.aio.AioRpcError) -> list[list[float]]:
    assert isinstance(response, EmbedResponse), response
    assert [item.index for item in response.embeddings] == list(range(len(response.embeddings)))
    return [list(item.values) for item in response.embeddings]


@pytest.mark.parametrize("provider", EMBEDDING_PROVIDERS)
async def test_each_input_gets_its_vector_in_input_order(
    provider: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    response = await embed(embeddings, service, embed_request(upstream, TEXTS))
    assert vectors_of(response) == [vector_for(text) for text in TEXTS]
    assert isinstance(response, EmbedResponse) and response.usage is not None
    if REPORTS_USAGE[provider]:
        assert response.usage.input_tokens == sum(len(text.split()) for text in TEXTS)
    else:
        assert response.usage.input_tokens is None
    assert response.model == EMBEDDING_MODELS[provider]


@pytest.mark.parametrize("provider", EMBEDDING_PROVIDERS)
async def test_a_large_batch_is_split_to_the_providers_limit_and_reassembled(
    provider: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    model = embedding_model_for(provider)
    assert model is not None
    count = model.limits.max_inputs * 2 + 3
    texts = [f"text number {number}" for number in range(count)]
    # Small vectors, so that thousands of them fit in one answer.
    request = embed_request(upstream, texts, dimensions=DEFAULT_DIMENSIONS)
    response = await embed(embeddings, service, request)

    assert vectors_of(response) == [vector_for(text) for text in texts]
    field = INPUTS_FIELDS.get(provider, "input")
    sizes = sorted(len(request.json()[field]) for request in upstream.replay.requests)
    assert sizes == [3, model.limits.max_inputs, model.limits.max_inputs]
    if REPORTS_USAGE[provider]:
        assert isinstance(response, EmbedResponse) and response.usage is not None
        assert response.usage.input_tokens == 3 * count


async def test_a_batch_is_also_split_by_size(
    embeddings: EmbeddingServiceStub, service: RunningService, upstream_for: dict[str, Upstream]
) -> None:
    upstream = upstream_for["mistral"]
    texts = [f"{number} " + "word " * 1000 for number in range(5)]
    response = await embed(embeddings, service, embed_request(upstream, texts))
    assert vectors_of(response) == [vector_for(text) for text in texts]
    assert [len(request.json()["input"]) for request in upstream.replay.requests] == [3, 2]


@pytest.mark.parametrize("provider", EMBEDDING_PROVIDERS)
async def test_dimensions_are_translated_and_the_request_matches_its_snapshot(
    provider: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    response = await embed(embeddings, service, embed_request(upstream, TEXTS, dimensions=16))
    assert all(len(vector) == 16 for vector in vectors_of(response))
    (sent,) = upstream.replay.requests
    snapshot = request_snapshot(sent, upstream.key, upstream.replay.layout.base_path)
    assert_matches_snapshot(provider, "embed_dimensions", snapshot)


@pytest.mark.parametrize("provider", EMBEDDING_PROVIDERS)
async def test_input_type_is_translated_where_supported_and_refused_elsewhere(
    provider: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for[provider]
    request = embed_request(upstream, TEXTS, input_type=InputType.QUERY)
    response = await embed(embeddings, service, request)
    if provider in QUERY_MARKERS:
        assert len(vectors_of(response)) == len(TEXTS)
        sent = upstream.replay.requests[-1].json()
        assert query_marker_sent(provider, sent) == QUERY_MARKERS[provider]
    else:
        assert isinstance(response, grpc.aio.AioRpcError)
        assert response.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "input_type" in field_violations(response)
        assert upstream.replay.requests == []


@pytest.mark.parametrize(
    ("provider", "script", "code"),
    [
        (provider, script, code)
        for provider in EMBEDDING_PROVIDERS
        for script, code in (
            (("unauthorized.http",), grpc.StatusCode.FAILED_PRECONDITION),
            (("rate_limited.http",), grpc.StatusCode.RESOURCE_EXHAUSTED),
            (
                ("model_not_found.http",),
                MODEL_NOT_FOUND_CODES.get(provider, grpc.StatusCode.NOT_FOUND),
            ),
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
    response = await embed(embeddings, service, embed_request(upstream, TEXTS))
    if code == grpc.StatusCode.OK:
        assert vectors_of(response) == [vector_for(text) for text in TEXTS]
        assert len(upstream.replay.requests) == 2
        return
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == code
    assert error_info(response).metadata["provider"] == provider
    if code == grpc.StatusCode.NOT_FOUND:
        model = EMBEDDING_MODELS[provider]
        assert (response.details() or "").startswith(
            f'model "{model}" not found at {provider} (HTTP 404)'
        )
        assert error_info(response).reason == "MODEL_NOT_FOUND"
        assert error_info(response).metadata["model"] == model
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        assert Answer(error=response).retry_delay_seconds() == 20


async def test_one_batch_failing_for_good_fails_the_whole_call(
    embeddings: EmbeddingServiceStub, service: RunningService, upstream_for: dict[str, Upstream]
) -> None:
    upstream = upstream_for["mistral"]
    upstream.replay.play("embeddings", "unauthorized.http")
    texts = [f"text {number}" for number in range(300)]
    response = await embed(embeddings, service, embed_request(upstream, texts))
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize(
    ("inputs", "field"),
    [([], "inputs"), (["fine", " "], "inputs[1]")],
)
async def test_empty_inputs_are_refused_naming_them(
    inputs: list[str],
    field: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    upstream_for: dict[str, Upstream],
) -> None:
    upstream = upstream_for["openai"]
    response = await embed(embeddings, service, embed_request(upstream, inputs))
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(response)
    assert upstream.replay.requests == []


async def test_cohere_refuses_a_request_that_does_not_say_what_its_texts_are_for(
    embeddings: EmbeddingServiceStub, service: RunningService, upstream_for: dict[str, Upstream]
) -> None:
    upstream = upstream_for["cohere"]
    request = embed_request(upstream, TEXTS, input_type=InputType.UNSPECIFIED)
    response = await embed(embeddings, service, request)
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input_type" in field_violations(response)
    assert upstream.replay.requests == []
