"""The only code that knows both the generated embedding and rerank messages and their contract."""

from __future__ import annotations

from integration_api_proto.integration.v1 import (
    Embedding,
    EmbedResponse,
    InputType,
    RerankResponse,
    RerankResult,
    Usage,
)
from integration_api_proto.integration.v1 import EmbedRequest as EmbedRequestMessage
from integration_api_proto.integration.v1 import RerankRequest as RerankRequestMessage

from integration_api.embeddings import contract
from integration_api.enum_values import UNKNOWN_ENUM_VALUE
from integration_api.errors import InvalidArgument
from integration_api.llm.call_target import check_one_target
from integration_api.llm.contract import Usage as TokenUsage
from integration_api.llm.wire import wire_class
from integration_api.request_caps import MAX_MODEL_CHARACTERS, cap_text

_INPUT_TYPES = {
    InputType.QUERY: contract.InputType.QUERY,
    InputType.DOCUMENT: contract.InputType.DOCUMENT,
}


def embed_request_from_message(message: EmbedRequestMessage) -> contract.EmbedRequest:
    """The domain request; refuses what no provider could take (INVALID_ARGUMENT)."""
    check_one_target(message.credential_id, message.route_id)
    if not message.inputs:
        raise InvalidArgument.for_field("inputs", "must contain at least one text")
    for index, text in enumerate(message.inputs):
        if not text.strip():
            raise InvalidArgument.for_field(f"inputs[{index}]", "must not be empty")
    if message.dimensions is not None and message.dimensions <= 0:
        raise InvalidArgument.for_field("dimensions", "must be positive")
    input_type = _INPUT_TYPES.get(message.input_type)
    if input_type is None and message.input_type != InputType.UNSPECIFIED:
        raise InvalidArgument.for_field("input_type", UNKNOWN_ENUM_VALUE)
    return contract.EmbedRequest(
        credential_id=message.credential_id,
        model=cap_text("model", message.model.strip(), MAX_MODEL_CHARACTERS),
        inputs=tuple(message.inputs),
        input_type=input_type,
        dimensions=message.dimensions,
    )


class PackedEmbedding(Embedding):
    """An `Embedding` whose bytes the protobuf runtime writes.

    betterproto2 encodes a repeated float one value at a time (about 0.8 ms for 1536 values);
    the protobuf runtime writes the same packed field in a few microseconds.
    """

    def __bytes__(self) -> bytes:
        wire = wire_class("integration.v1.Embedding")(index=self.index)
        wire.values.extend(self.values)  # type: ignore[attr-defined]
        return wire.SerializeToString()


def _usage_message(usage: TokenUsage) -> Usage:
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
    )


def embed_response_from_result(result: contract.EmbedResult) -> EmbedResponse:
    return EmbedResponse(
        embeddings=[
            PackedEmbedding(index=index, values=vector)
            for index, vector in enumerate(result.vectors)
        ],
        usage=_usage_message(result.usage),
        model=result.model,
    )


def rerank_request_from_message(message: RerankRequestMessage) -> contract.RerankRequest:
    """The domain request; refuses what no provider could take (INVALID_ARGUMENT)."""
    check_one_target(message.credential_id, message.route_id)
    if not message.query.strip():
        raise InvalidArgument.for_field("query", "must not be empty")
    if not message.documents:
        raise InvalidArgument.for_field("documents", "must contain at least one document")
    for index, document in enumerate(message.documents):
        if not document.strip():
            raise InvalidArgument.for_field(f"documents[{index}]", "must not be empty")
    if message.top_n is not None and message.top_n <= 0:
        raise InvalidArgument.for_field("top_n", "must be positive")
    return contract.RerankRequest(
        credential_id=message.credential_id,
        model=cap_text("model", message.model.strip(), MAX_MODEL_CHARACTERS),
        query=message.query,
        documents=tuple(message.documents),
        top_n=message.top_n,
    )


def rerank_response_from_answer(answer: contract.RerankAnswer) -> RerankResponse:
    return RerankResponse(
        results=[
            RerankResult(index=result.index, relevance_score=result.relevance_score)
            for result in answer.results
        ],
        model=answer.model,
        usage=_usage_message(answer.usage),
        search_units=answer.search_units,
    )
