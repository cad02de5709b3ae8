"""Reading Bedrock's ConverseStream events into normalized parts (no I/O): the traps of its wire."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from integration_api.errors import Internal, ResourceExhausted, ServiceError, Unavailable
from integration_api.llm.contract import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamPart,
    TextDelta,
    ToolCall,
    Usage,
)
from integration_api.providers.aws.chat_stream import BedrockStreamReader
from integration_api.providers.aws.eventstream import Frame
from integration_api.upstream.limits import TOO_MANY_TOOL_CALLS, UpstreamLimits

MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def event(name: str, payload: Mapping[str, object]) -> Frame:
    return Frame("event", name, json.dumps({**payload, "p": "abcdefgh"}).encode())


def read_all(frames: list[Frame], limits: UpstreamLimits | None = None) -> list[StreamPart]:
    reader = BedrockStreamReader("bedrock", MODEL, "req-1", ("secret",), limits or UpstreamLimits())
    parts: list[StreamPart] = []
    for frame in frames:
        parts.extend(reader.read(frame))
        if reader.finished:
            return parts
    return parts + reader.end()


def text(index: int, piece: str) -> Frame:
    return event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": piece}})


def tool_start(index: int, call_id: str, name: str) -> Frame:
    start = {"toolUse": {"toolUseId": call_id, "name": name}}
    return event("contentBlockStart", {"contentBlockIndex": index, "start": start})


def tool_input(index: int, piece: str) -> Frame:
    delta = {"toolUse": {"input": piece}}
    return event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})


def block_stop(index: int) -> Frame:
    return event("contentBlockStop", {"contentBlockIndex": index})


def end(reason: str, usage: Mapping[str, object] | None = None) -> list[Frame]:
    metadata = {"usage": usage or {"inputTokens": 3, "outputTokens": 2}, "metrics": {}}
    return [event("messageStop", {"stopReason": reason}), event("metadata", metadata)]


def finish_of(parts: list[StreamPart]) -> Finish:
    finish = parts[-1]
    assert isinstance(finish, Finish)
    return finish


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("end_turn", FinishReason.STOP),
        ("stop_sequence", FinishReason.STOP),
        ("max_tokens", FinishReason.LENGTH),
        ("tool_use", FinishReason.TOOL_CALLS),
        ("guardrail_intervened", FinishReason.CONTENT_FILTER),
        ("content_filtered", FinishReason.CONTENT_FILTER),
        ("malformed_model_output", FinishReason.OTHER),
        ("malformed_tool_use", FinishReason.OTHER),
        ("model_context_window_exceeded", FinishReason.OTHER),
        ("a_reason_added_later", FinishReason.OTHER),
    ],
)
def test_every_stop_reason_is_mapped_and_kept_raw(raw: str, reason: FinishReason) -> None:
    finish = finish_of(read_all([text(0, "Hi"), *end(raw)]))
    assert (finish.reason, finish.raw_reason) == (reason, raw)
    assert (finish.model, finish.provider_request_id) == (MODEL, "req-1")


def test_a_text_block_opens_without_a_start_event_and_padding_is_ignored() -> None:
    start = event("messageStart", {"role": "assistant"})
    parts = read_all([start, text(0, "Hel"), text(0, "lo"), *end("end_turn")])
    assert parts[:2] == [TextDelta("Hel"), TextDelta("lo")]


def test_interleaved_tool_inputs_are_assembled_apart_by_block_and_numbered_in_order() -> None:
    parts = read_all(
        [
            tool_start(1, "tooluse_a", "get_weather"),
            tool_start(2, "tooluse_b", "get_time"),
            tool_input(2, '{"timezone":'),
            tool_input(1, '{"city":'),
            tool_input(1, '"Paris"}'),
            tool_input(2, '"UTC"}'),
            block_stop(2),
            block_stop(1),
            *end("tool_use"),
        ]
    )
    assert parts[:2] == [
        ToolCall(0, "tooluse_b", "get_time", '{"timezone":"UTC"}'),
        ToolCall(1, "tooluse_a", "get_weather", '{"city":"Paris"}'),
    ]


def test_a_tool_call_without_input_has_an_empty_object_and_one_never_closed_still_completes() -> (
    None
):
    parts = read_all([tool_start(0, "tooluse_a", "get_time"), *end("tool_use")])
    assert parts[0] == ToolCall(0, "tooluse_a", "get_time", "{}")


@pytest.mark.parametrize("arguments", ['{"city": "Par', "[1, 2]"])
def test_tool_input_that_is_not_a_json_object_ends_the_call(arguments: str) -> None:
    with pytest.raises(Internal):
        read_all([tool_start(0, "t", "get_weather"), tool_input(0, arguments), block_stop(0)])


def test_tool_calls_are_held_to_the_answers_budget() -> None:
    frames = [tool_start(index, f"t{index}", "get_time") for index in range(3)]
    with pytest.raises(Unavailable) as raised:
        read_all(frames, UpstreamLimits(max_tool_calls=2))
    assert raised.value.reason == TOO_MANY_TOOL_CALLS


def test_reasoning_text_signature_and_redacted_content_become_reasoning_deltas() -> None:
    def reasoning(index: int, content: dict[str, object]) -> Frame:
        delta = {"reasoningContent": content}
        return event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})

    parts = read_all(
        [
            reasoning(0, {"text": "Think."}),
            reasoning(0, {"signature": "EqoBsig"}),
            block_stop(0),
            reasoning(1, {"redactedContent": "UmVkYWN0ZWQ="}),
            text(2, "Hi"),
            *end("end_turn"),
        ]
    )
    assert parts[:4] == [
        ReasoningDelta("Think."),
        ReasoningDelta(signature="EqoBsig"),
        ReasoningDelta(redacted_data="UmVkYWN0ZWQ="),
        TextDelta("Hi"),
    ]


def test_cache_reads_and_writes_count_as_input_and_are_reported_apart() -> None:
    usage = {
        "inputTokens": 21,
        "outputTokens": 7,
        "cacheReadInputTokens": 2400,
        "cacheWriteInputTokens": 1800,
        "totalTokens": 4228,
    }
    parts = read_all([text(0, "Hi"), *end("end_turn", usage)])
    assert parts[-2] == Usage(
        input_tokens=21 + 2400 + 1800,
        output_tokens=7,
        cached_input_tokens=2400,
        cache_write_input_tokens=1800,
    )


def test_usage_without_cache_counts_leaves_them_unreported() -> None:
    parts = read_all([text(0, "Hi"), *end("end_turn", {"inputTokens": 5, "outputTokens": 1})])
    assert parts[-2] == Usage(input_tokens=5, output_tokens=1)


def test_an_answer_that_ends_after_message_stop_without_metadata_is_complete_without_usage() -> (
    None
):
    parts = read_all([text(0, "Hi"), event("messageStop", {"stopReason": "end_turn"})])
    assert parts[-2:] == [Usage(), finish_of(parts)]
    assert finish_of(parts).reason is FinishReason.STOP


def test_an_answer_that_ends_before_message_stop_is_truncated() -> None:
    with pytest.raises(Unavailable) as raised:
        read_all([text(0, "Hi"), event("metadata", {"usage": {"outputTokens": 1}})])
    assert raised.value.reason == "STREAM_TRUNCATED"


@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        ("throttlingException", ResourceExhausted),
        ("modelStreamErrorException", Unavailable),
        ("internalServerException", Unavailable),
        ("serviceUnavailableException", Unavailable),
        ("validationException", ServiceError),
        ("somethingNewException", Unavailable),
    ],
)
def test_an_exception_frame_ends_the_call_with_its_typed_error_without_the_secret(
    exception: str, kind: type[ServiceError]
) -> None:
    frame = Frame("exception", exception, b'{"message":"refused secret here"}')
    with pytest.raises(kind) as raised:
        read_all([frame])
    error = raised.value
    assert error.reason == "PROVIDER_STREAM_ERROR"
    assert error.metadata["provider_error_type"] == exception
    assert "secret" not in str(error)
    assert error.retryable == (exception != "validationException")


def test_an_event_that_is_not_json_is_a_bad_response() -> None:
    with pytest.raises(Unavailable) as raised:
        read_all([Frame("event", "contentBlockDelta", b"not json")])
    assert raised.value.reason == "PROVIDER_BAD_RESPONSE"
