"""Embed through Bedrock's InvokeModel: Titan one text per signed call, Cohere Embed in batches."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import EmbedRequest, EmbedResponse, InputType
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from integration_api.providers.aws.embeddings import LIMITS
from tests.credentials.helpers import field_violations
from tests.fakes.replay_embeddings import vector_for
from tests.llm.snapshots import assert_matches_snapshot, request_snapshot
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService

TITAN = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-multilingual-v3"
COHERE_V4 = "cohere.embed-v4:0"
TEXTS = ["The cat sat on the mat.", "Voice agents need fast answers.", "Paris in spring"]


@pytest.fixture
def bedrock(upstream_for: dict[str, Upstream]) -> Upstream:
    return upstream_for["bedrock"]


async def embed(
    embeddings: EmbeddingServiceStub, service: RunningService, request: EmbedRequest
) -> EmbedResponse | grpc.aio.AioRpcError:
    try:
        return await embeddings.embed(request, metadata=service.auth(), timeout=10)
    except grpc.aio.AioRpcError as error:
        return error


def request(bedrock: Upstream, model: str, texts: list[str], **fields: object) -> EmbedRequest:
    built = EmbedRequest(credential_id=bedrock.credential_id, model=model, inputs=texts)
    for name, value in fields.items():
        setattr(built, name, value)
    return built


def vectors_of(response: EmbedResponse | grpc.aio.AioRpcError) -> list[list[float]]:
    assert isinstance(response, EmbedResponse), response
    return [list(item.values) for item in response.embeddings]


async def test_titan_embeds_one_text_per_signed_call_in_input_order_and_adds_up_tokens(
    embeddings: EmbeddingServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    texts = [f"text number {number}" for number in range(11)]
    response = await embed(embeddings, service, request(bedrock, TITAN, texts))
    assert vectors_of(response) == [vector_for(text) for text in texts]
    assert isinstance(response, EmbedResponse) and response.usage is not None
    assert response.usage.input_tokens == 3 * len(texts)
    sent = bedrock.replay.requests
    assert sorted(item.json()["inputText"] for item in sent) == sorted(texts)
    assert {item.path for item in sent} == {f"/model/{TITAN}/invoke"}


async def test_titan_dimensions_and_normalization_are_sent_as_the_snapshot_says(
    embeddings: EmbeddingServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    response = await embed(embeddings, service, request(bedrock, TITAN, TEXTS[:1], dimensions=256))
    assert [len(vector) for vector in vectors_of(response)] == [256]
    (sent,) = bedrock.replay.requests
    snapshot = request_snapshot(sent, bedrock.key, bedrock.replay.layout.base_path)
    headers = snapshot["headers"]
    assert isinstance(headers, dict)
    headers.pop("authorization")
    assert_matches_snapshot("bedrock", "embed_titan_dimensions", snapshot)


async def test_cohere_embeds_in_batches_of_96_with_its_input_type_and_the_tokens_reported(
    embeddings: EmbeddingServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    texts = [f"text number {number}" for number in range(LIMITS.max_inputs * 2 + 3)]
    built = request(bedrock, COHERE, texts, input_type=InputType.DOCUMENT)
    response = await embed(embeddings, service, built)
    assert vectors_of(response) == [vector_for(text) for text in texts]
    assert isinstance(response, EmbedResponse) and response.usage is not None
    assert response.usage.input_tokens == 3 * len(texts)
    bodies = [item.json() for item in bedrock.replay.requests]
    assert sorted(len(body["texts"]) for body in bodies) == [3, 96, 96]
    assert {body["input_type"] for body in bodies} == {"search_document"}
    assert all(body["embedding_types"] == ["float"] for body in bodies)


async def test_cohere_v4_takes_an_output_dimension(
    embeddings: EmbeddingServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    built = request(bedrock, COHERE_V4, TEXTS, input_type=InputType.QUERY, dimensions=256)
    response = await embed(embeddings, service, built)
    assert [len(vector) for vector in vectors_of(response)] == [256] * len(TEXTS)
    body = bedrock.replay.requests[-1].json()
    assert (body["input_type"], body["output_dimension"]) == ("search_query", 256)


@pytest.mark.parametrize(
    ("model", "fields", "field"),
    [
        (COHERE, {}, "input_type"),
        (COHERE, {"input_type": InputType.QUERY, "dimensions": 256}, "dimensions"),
        (TITAN, {"dimensions": 16}, "dimensions"),
        (TITAN, {"input_type": InputType.QUERY}, "input_type"),
        ("amazon.titan-embed-text-v1", {"dimensions": 256}, "dimensions"),
        ("meta.llama3-1-70b-instruct-v1:0", {}, "model"),
    ],
)
async def test_what_a_model_family_cannot_take_is_refused_before_any_call(
    model: str,
    fields: dict[str, object],
    field: str,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    bedrock: Upstream,
) -> None:
    response = await embed(embeddings, service, request(bedrock, model, TEXTS, **fields))
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(response)
    assert bedrock.replay.requests == []


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (("unauthorized.http",), grpc.StatusCode.FAILED_PRECONDITION),
        (("model_not_found.http",), grpc.StatusCode.NOT_FOUND),
        (("server_error.http", "embeddings"), grpc.StatusCode.OK),
    ],
)
async def test_provider_failures_map_to_statuses_and_transient_ones_are_retried(
    script: tuple[str, ...],
    code: grpc.StatusCode,
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    bedrock: Upstream,
) -> None:
    bedrock.replay.play(*script)
    built = request(bedrock, COHERE, TEXTS, input_type=InputType.QUERY)
    response = await embed(embeddings, service, built)
    if code == grpc.StatusCode.OK:
        assert vectors_of(response) == [vector_for(text) for text in TEXTS]
        assert len(bedrock.replay.requests) == 2
        return
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == code


async def test_one_titan_call_failing_for_good_fails_the_whole_call(
    embeddings: EmbeddingServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play("embeddings", "unauthorized.http")
    texts = [f"text {number}" for number in range(6)]
    response = await embed(embeddings, service, request(bedrock, TITAN, texts))
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == grpc.StatusCode.FAILED_PRECONDITION
