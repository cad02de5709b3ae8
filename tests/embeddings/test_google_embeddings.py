"""Google's embedding traps: one content per text, and Vertex's one-instance Gemini models."""

from __future__ import annotations

from integration_api_proto.integration.v1 import EmbedRequest, EmbedResponse, InputType
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.fakes.replay_embeddings import vector_for
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService

TEXTS = ["first text", "second text", "third text", "fourth text", "fifth text"]


async def test_each_text_is_its_own_content_of_one_part(
    embeddings: EmbeddingServiceStub, service: RunningService, upstream_for: dict[str, Upstream]
) -> None:
    upstream = upstream_for["gemini"]
    request = EmbedRequest(
        credential_id=upstream.credential_id,
        model="gemini-embedding-001",
        inputs=TEXTS,
        input_type=InputType.DOCUMENT,
    )
    response = await embeddings.embed(request, metadata=service.auth(), timeout=10)
    assert [list(item.values) for item in response.embeddings] == [vector_for(t) for t in TEXTS]
    (sent,) = upstream.replay.requests
    items = sent.json()["requests"]
    assert [item["content"]["parts"] for item in items] == [[{"text": text}] for text in TEXTS]
    assert {item["taskType"] for item in items} == {"RETRIEVAL_DOCUMENT"}


async def test_vertex_gemini_embedding_models_get_one_instance_per_call(
    embeddings: EmbeddingServiceStub, service: RunningService, upstream_for: dict[str, Upstream]
) -> None:
    upstream = upstream_for["vertex-ai"]
    request = EmbedRequest(
        credential_id=upstream.credential_id, model="gemini-embedding-001", inputs=TEXTS
    )
    response = await embeddings.embed(request, metadata=service.auth(), timeout=10)
    assert isinstance(response, EmbedResponse) and response.usage is not None
    assert [list(item.values) for item in response.embeddings] == [vector_for(t) for t in TEXTS]
    assert response.usage.input_tokens == 2 * len(TEXTS)
    sent = [request.json()["instances"] for request in upstream.replay.requests]
    assert sorted(instances[0]["content"] for instances in sent) == sorted(TEXTS)
    assert all(len(instances) == 1 for instances in sent)
