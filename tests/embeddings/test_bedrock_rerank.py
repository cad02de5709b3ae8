"""Rerank through Bedrock's agent runtime: a signed `POST /rerank` naming the model by ARN."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import RerankRequest, RerankResponse
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.credentials.helpers import error_info
from tests.embeddings.test_rerank_requests import rerank
from tests.fakes.aws_sigv4 import BEDROCK_REPLAY_REGION
from tests.fakes.replay_rerank import ranking
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService

MODEL = "amazon.rerank-v1:0"
QUERY = "capital of France"
DOCUMENTS = [
    "Berlin is the capital of Germany.",
    "Paris is the capital of France.",
    "The mat is where the cat sat.",
    "France is known for its cheese.",
]


@pytest.fixture
def bedrock(upstream_for: dict[str, Upstream]) -> Upstream:
    return upstream_for["bedrock"]


def request(bedrock: Upstream, top_n: int | None = None, model: str = MODEL) -> RerankRequest:
    return RerankRequest(
        credential_id=bedrock.credential_id,
        model=model,
        query=QUERY,
        documents=DOCUMENTS,
        top_n=top_n,
    )


def ranked(response: RerankResponse | grpc.aio.AioRpcError) -> list[tuple[int, float]]:
    assert isinstance(response, RerankResponse), response
    return [(result.index, result.relevance_score) for result in response.results]


@pytest.mark.parametrize(("top_n", "asked"), [(None, len(DOCUMENTS)), (2, 2)])
async def test_documents_come_back_best_first_from_one_signed_call_naming_the_model_arn(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    bedrock: Upstream,
    top_n: int | None,
    asked: int,
) -> None:
    response = await rerank(embeddings, service, request(bedrock, top_n))
    assert ranked(response) == ranking(QUERY, DOCUMENTS, asked)
    (sent,) = bedrock.replay.requests
    assert sent.path == "/rerank"
    assert sent.headers["authorization"].startswith("AWS4-HMAC-SHA256 ")
    body = sent.json()
    configuration = body["rerankingConfiguration"]["bedrockRerankingConfiguration"]
    assert configuration == {
        "numberOfResults": asked,
        "modelConfiguration": {
            "modelArn": f"arn:aws:bedrock:{BEDROCK_REPLAY_REGION}::foundation-model/{MODEL}"
        },
    }
    assert body["queries"] == [{"type": "TEXT", "textQuery": {"text": QUERY}}]
    assert [source["inlineDocumentSource"]["textDocument"]["text"] for source in body["sources"]]
    assert isinstance(response, RerankResponse) and response.search_units is None


async def test_a_model_given_as_an_arn_is_sent_as_it_is(
    embeddings: EmbeddingServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    arn = "arn:aws:bedrock:eu-central-1::foundation-model/cohere.rerank-v3-5:0"
    await rerank(embeddings, service, request(bedrock, model=arn))
    sent = bedrock.replay.requests[-1].json()
    assert sent["rerankingConfiguration"]["bedrockRerankingConfiguration"][
        "modelConfiguration"
    ] == {"modelArn": arn}


@pytest.mark.parametrize(
    ("script", "code"),
    [
        (("rate_limited.http",), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (("server_error.http", "embeddings"), grpc.StatusCode.OK),
    ],
)
async def test_throttling_and_server_errors_map_to_statuses_and_are_retried(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    bedrock: Upstream,
    script: tuple[str, ...],
    code: grpc.StatusCode,
) -> None:
    bedrock.replay.play(*script)
    response = await rerank(embeddings, service, request(bedrock))
    if code == grpc.StatusCode.OK:
        assert ranked(response) == ranking(QUERY, DOCUMENTS, len(DOCUMENTS))
        assert len(bedrock.replay.requests) == 2
        return
    assert isinstance(response, grpc.aio.AioRpcError)
    assert response.code() == code
    assert error_info(response).metadata["provider"] == "bedrock"
