"""A provider's number that no response field can hold, or a NUL in its text, ends the call
`UNAVAILABLE`/`PROVIDER_BAD_RESPONSE`: never INTERNAL, never UNKNOWN from the serializer."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import RerankRequest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub, LlmServiceStub

from tests.bounds.conftest import Upstreams, organization
from tests.bounds.test_answer_bounds import call_chat, call_embed
from tests.fakes import hostile
from tests.llm.support import Answer
from tests.llm.upstreams import store_credential
from tests.support.service import RunningService

FOUR_HUNDRED_DIGITS = "1" + "0" * 399
BAD_RESPONSE = "PROVIDER_BAD_RESPONSE"


def text_chunk(content: str) -> str:
    delta = f'{{"content":{content}}}'
    return f'{{"object":"chat.completion.chunk","model":"m","choices":[{{"delta":{delta}}}]}}'


def usage_chunk(prompt_tokens: str) -> str:
    return (
        '{"object":"chat.completion.chunk","model":"m","choices":[],'
        f'"usage":{{"prompt_tokens":{prompt_tokens},"completion_tokens":1}}}}'
    )


def tool_call_chunk(name: str) -> str:
    call = f'{{"index":0,"id":"c","function":{{"name":{name},"arguments":"{{}}"}}}}'
    return (
        '{"object":"chat.completion.chunk","model":"m",'
        f'"choices":[{{"delta":{{"tool_calls":[{call}]}}}}]}}'
    )


def embeddings_body(value: str) -> str:
    return f'{{"data":[{{"index":0,"embedding":[0.5,{value},0.25]}}],"model":"m"}}'


def assert_bad_response(answer: Answer) -> None:
    assert answer.code() == grpc.StatusCode.UNAVAILABLE, answer.error
    assert answer.reason() == BAD_RESPONSE
    assert answer.metadata()["provider"] == "openai-compatible"


HOSTILE_CHATS = {
    "NUL in text": [text_chunk('"a\\u0000b"')],
    "lone surrogate in text": [text_chunk('"a\\ud800b"')],
    "token count of 400 digits": [usage_chunk(FOUR_HUNDRED_DIGITS)],
    "token count past int32": [usage_chunk("99999999999")],
    "NaN in a chunk": ['{"object":"chat.completion.chunk","model":"m","choices":[],"x":NaN}'],
    "Infinity in a chunk": [text_chunk('"a"').replace('"model"', '"score":Infinity,"model"')],
    "NUL in a tool name": [tool_call_chunk('"f\\u0000"')],
}


@pytest.mark.parametrize("chunks", HOSTILE_CHATS.values(), ids=HOSTILE_CHATS.keys())
async def test_a_chat_answer_value_no_response_can_hold_is_a_bad_provider_response(
    chunks: list[str], llm: LlmServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.raw_chat(*chunks))
    assert_bad_response(await call_chat(llm, service, upstreams))


async def test_a_negative_token_count_is_not_reported(
    llm: LlmServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.raw_chat(text_chunk('"a"'), usage_chunk("-5")))
    answer = await call_chat(llm, service, upstreams)
    assert answer.error is None
    assert [usage.input_tokens for usage in answer.usages] == [None]


HOSTILE_VECTOR_VALUES = {
    "1e300": "1e300",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "NaN": "NaN",
    "1e400": "1e400",
    "400 digits": FOUR_HUNDRED_DIGITS,
    "past float32": "3.5e38",
}


@pytest.mark.parametrize("value", HOSTILE_VECTOR_VALUES.values(), ids=HOSTILE_VECTOR_VALUES.keys())
async def test_an_embedding_value_no_float_can_hold_is_a_bad_provider_response(
    value: str, embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.raw_json(embeddings_body(value)))
    assert_bad_response(await call_embed(embeddings, service, upstreams))


async def test_an_embedding_usage_past_int32_is_a_bad_provider_response(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    body = embeddings_body("0.5").replace('"model"', '"usage":{"prompt_tokens":4294967296},"model"')
    upstreams.hostile.answer_with(hostile.raw_json(body))
    assert_bad_response(await call_embed(embeddings, service, upstreams))


async def call_rerank(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> Answer:
    tenant = organization()
    credential_id = await store_credential(
        service, "voyageai", upstreams.hostile.base_url, "pa-key", organization_id=tenant
    )
    request = RerankRequest(
        credential_id=credential_id, model="rerank-2", query="q", documents=["a", "b"]
    )
    try:
        await embeddings.rerank(request, metadata=service.auth(organization_id=tenant))
    except grpc.aio.AioRpcError as error:
        return Answer(error=error)
    return Answer()


def rerank_body(score: str, total_tokens: str = "3") -> str:
    results = f'{{"index":0,"relevance_score":{score}}},{{"index":1,"relevance_score":0.1}}'
    return f'{{"data":[{results}],"model":"rerank-2","usage":{{"total_tokens":{total_tokens}}}}}'


HOSTILE_RERANKS = {
    "score NaN": rerank_body("NaN"),
    "score Infinity": rerank_body("Infinity"),
    "score 1e400": rerank_body("1e400"),
    "score of 400 digits": rerank_body(FOUR_HUNDRED_DIGITS),
    "token count past int32": rerank_body("0.5", total_tokens="2147483648"),
}


@pytest.mark.parametrize("body", HOSTILE_RERANKS.values(), ids=HOSTILE_RERANKS.keys())
async def test_a_rerank_value_no_response_can_hold_is_a_bad_provider_response(
    body: str, embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.raw_json(body))
    answer = await call_rerank(embeddings, service, upstreams)
    assert answer.code() == grpc.StatusCode.UNAVAILABLE, answer.error
    assert answer.reason() == BAD_RESPONSE
    assert answer.metadata()["provider"] == "voyageai"
