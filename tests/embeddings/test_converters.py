"""The fast vector encoding writes exactly the bytes the generated message would."""

from __future__ import annotations

from integration_api_proto.integration.v1 import Embedding, EmbedResponse
from integration_api_proto.integration.v1 import Usage as UsageMessage

from integration_api.embeddings.contract import EmbedResult
from integration_api.embeddings.converters import embed_response_from_result
from integration_api.llm.contract import Usage


def test_packed_vectors_encode_byte_for_byte_like_the_generated_message() -> None:
    vectors = [[0.25, -1.5, 3.0e-8, 1234.5], [], [float(index) / 7 for index in range(1536)]]
    fast = embed_response_from_result(EmbedResult(vectors, Usage(input_tokens=7), "m"))
    generated = EmbedResponse(
        embeddings=[Embedding(index=index, values=vector) for index, vector in enumerate(vectors)],
        usage=UsageMessage(input_tokens=7),
        model="m",
    )
    assert bytes(fast) == bytes(generated)
    decoded = EmbedResponse.FromString(bytes(fast))
    assert [item.index for item in decoded.embeddings] == [0, 1, 2]
    assert decoded.embeddings[0].values[:2] == [0.25, -1.5]


def test_usage_not_reported_is_absent_on_the_wire() -> None:
    response = embed_response_from_result(EmbedResult([[1.0]], Usage(), "m"))
    decoded = EmbedResponse.FromString(bytes(response))
    assert decoded.usage is not None and decoded.usage.input_tokens is None
