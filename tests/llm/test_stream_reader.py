"""Reading OpenAI-family stream payloads: the quirks each member adds to the format."""

from __future__ import annotations

import json

import pytest

from integration_api.errors import InvalidArgument, ServiceError, Unavailable
from integration_api.llm.contract import Finish, FinishReason, ReasoningDelta, TextDelta, Usage
from integration_api.providers.openai.chat_stream import OpenAIStreamReader, request_id_of
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR


def chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> str:
    choice: dict[str, object] = {"index": 0, "delta": delta, "finish_reason": finish, **extra}
    return json.dumps({"id": "c1", "model": "m", "choices": [choice]})


def finish_of(reader: OpenAIStreamReader) -> Finish:
    parts = reader.finish()
    assert isinstance(parts[-1], Finish)
    return parts[-1]


def test_azure_filter_annotations_are_not_text_and_a_filtered_answer_is_content_filter() -> None:
    reader = OpenAIStreamReader("azure-openai", "", ())
    prompt_filter = {"choices": [], "id": "", "model": "", "prompt_filter_results": [{}]}
    assert reader.read(json.dumps(prompt_filter)) == []
    blocked = {"violence": {"filtered": True, "severity": "high"}}
    assert reader.read(chunk({}, "stop", content_filter_results=blocked)) == []
    finish = finish_of(reader)
    assert (finish.reason, finish.raw_reason) == (FinishReason.CONTENT_FILTER, "stop")


def test_mistral_typed_content_is_text_and_its_thinking_is_reasoning() -> None:
    reader = OpenAIStreamReader("mistral", "", ())
    content = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}]},
        {"type": "text", "text": "Bonjour"},
    ]
    assert reader.read(chunk({"content": content})) == [
        ReasoningDelta("hmm"),
        TextDelta("Bonjour"),
    ]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_of_openai_compatible_servers_is_forwarded_as_it_arrives(field: str) -> None:
    reader = OpenAIStreamReader("openai-compatible", "", ())
    assert reader.read(chunk({"role": "assistant", field: "Let me think", "content": None})) == [
        ReasoningDelta("Let me think")
    ]
    assert reader.read(chunk({"content": "Hi"})) == [TextDelta("Hi")]


def test_reasoning_tokens_are_reported_within_the_output_tokens() -> None:
    reader = OpenAIStreamReader("openai", "", ())
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 100,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 64},
    }
    reader.read(json.dumps({"id": "c1", "model": "m", "choices": [], "usage": usage}))
    assert reader.finish()[-2] == Usage(
        input_tokens=12, output_tokens=100, cached_input_tokens=0, reasoning_tokens=64
    )


def test_a_refusal_is_forwarded_as_the_models_words() -> None:
    reader = OpenAIStreamReader("openai", "", ())
    assert reader.read(chunk({"content": None, "refusal": "I can't help."})) == [
        TextDelta("I can't help.")
    ]


def test_usage_not_reported_stays_unknown_and_zero_stays_zero() -> None:
    silent = OpenAIStreamReader("openai-compatible", "", ())
    silent.read(chunk({}, "stop"))
    assert silent.finish()[-2] == Usage()
    reporting = OpenAIStreamReader("openai", "", ())
    usage = {
        "prompt_tokens": 0,
        "completion_tokens": 5,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    reporting.read(json.dumps({"choices": [], "usage": usage}))
    assert reporting.finish()[-2] == Usage(0, 5, 0)


@pytest.mark.parametrize(
    ("payload", "error_type"),
    [
        ({"error": {"message": "boom", "type": "server_error"}}, Unavailable),
        ({"object": "error", "message": "engine dead", "type": "InternalServerError"}, Unavailable),
        ({"error": "Input validation error", "error_type": "validation"}, InvalidArgument),
    ],
    ids=["openai", "vllm", "tgi validation"],
)
def test_an_error_inside_the_stream_becomes_a_typed_error(
    payload: dict[str, object], error_type: type[ServiceError]
) -> None:
    reader = OpenAIStreamReader("p", "", ())
    with pytest.raises(error_type) as raised:
        reader.read(json.dumps(payload))
    assert raised.value.reason == PROVIDER_STREAM_ERROR


def test_an_error_event_in_plain_text_is_an_error_too() -> None:
    error = OpenAIStreamReader("huggingface", "", ()).read_error_event("Model is overloaded")
    assert isinstance(error, Unavailable)
    assert "Model is overloaded" in error.message


def test_a_key_echoed_in_a_stream_error_never_reaches_the_message() -> None:
    key = "sk-live-0123456789abcdefABCDEF"
    reader = OpenAIStreamReader("openai", "", (key,))
    with pytest.raises(Unavailable) as raised:
        reader.read(json.dumps({"error": {"message": f"bad key {key} used"}}))
    assert key not in raised.value.message


def test_an_event_that_is_not_a_json_object_is_a_bad_response() -> None:
    with pytest.raises(Unavailable) as raised:
        OpenAIStreamReader("openai", "", ()).read("[1, 2]")
    assert raised.value.reason == PROVIDER_BAD_RESPONSE


def test_mistrals_error_finish_reason_is_a_failure() -> None:
    with pytest.raises(Unavailable):
        OpenAIStreamReader("mistral", "", ()).read(chunk({"content": ""}, "error"))


def test_the_request_id_comes_from_headers_else_from_the_chunks() -> None:
    assert request_id_of({"apim-request-id": "abc"}) == "abc"
    reader = OpenAIStreamReader("mistral", "", ())
    reader.read(chunk({"content": "x"}))
    assert finish_of(reader).provider_request_id == "c1"
