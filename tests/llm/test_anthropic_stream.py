"""Reading Anthropic's named events into normalized parts (no I/O): the liberal and strict edges."""

from __future__ import annotations

import json

import pytest

from integration_api.errors import Internal, ServiceError, Unavailable
from integration_api.llm.contract import Finish, StreamPart, TextDelta, ToolCall, Usage
from integration_api.providers.anthropic.errors import stream_error
from integration_api.providers.anthropic.stream import AnthropicStreamReader
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE

Event = tuple[str, dict[str, object]]


def reader(request_id: str = "") -> AnthropicStreamReader:
    return AnthropicStreamReader("anthropic", request_id, ("sk-ant-secret",))


def read_all(events: list[Event], request_id: str = "") -> list[StreamPart]:
    stream = reader(request_id)
    parts: list[StreamPart] = []
    for name, payload in events:
        parts.extend(stream.read(name, json.dumps(payload)))
    return parts


def start(usage: dict[str, object] | None = None) -> Event:
    message = {"id": "msg_1", "model": "claude-haiku-4-5", "usage": usage or {"input_tokens": 3}}
    return "message_start", {"type": "message_start", "message": message}


def tool_start(index: int, call_id: str, name: str, given: object = None) -> Event:
    block = {"type": "tool_use", "id": call_id, "name": name, "input": given or {}}
    return "content_block_start", {"index": index, "content_block": block}


def json_piece(index: int, piece: str) -> Event:
    delta = {"type": "input_json_delta", "partial_json": piece}
    return "content_block_delta", {"index": index, "delta": delta}


def stop(index: int) -> Event:
    return "content_block_stop", {"index": index}


def end(reason: str = "tool_use", usage: dict[str, object] | None = None) -> list[Event]:
    delta: dict[str, object] = {
        "type": "message_delta",
        "delta": {"stop_reason": reason},
        "usage": usage or {},
    }
    return [("message_delta", delta), ("message_stop", {"type": "message_stop"})]


def test_interleaved_tool_uses_stay_apart_by_block_index_and_are_numbered_in_order() -> None:
    parts = read_all(
        [
            start(),
            tool_start(1, "toolu_a", "get_weather"),
            tool_start(2, "toolu_b", "get_time"),
            json_piece(2, '{"timezone":'),
            json_piece(1, '{"city":'),
            json_piece(1, ' "Paris"}'),
            json_piece(2, ' "UTC"}'),
            stop(2),
            stop(1),
            *end(),
        ]
    )
    calls = [part for part in parts if isinstance(part, ToolCall)]
    assert calls == [
        ToolCall(0, "toolu_b", "get_time", '{"timezone": "UTC"}'),
        ToolCall(1, "toolu_a", "get_weather", '{"city": "Paris"}'),
    ]


def test_input_given_whole_at_the_start_is_used_when_no_fragment_follows() -> None:
    parts = read_all([start(), tool_start(0, "toolu_a", "f", {"x": 1}), stop(0), *end()])
    assert parts[0] == ToolCall(0, "toolu_a", "f", '{"x": 1}')


def test_a_tool_use_whose_block_never_closed_is_completed_at_message_stop() -> None:
    parts = read_all([start(), tool_start(0, "toolu_a", "f"), json_piece(0, '{"a":1}'), *end()])
    assert parts[0] == ToolCall(0, "toolu_a", "f", '{"a":1}')
    assert isinstance(parts[-1], Finish)


def test_tool_input_that_is_not_json_fails_the_call() -> None:
    with pytest.raises(Internal) as failed:
        read_all([start(), tool_start(0, "toolu_a", "f"), json_piece(0, '{"a":'), stop(0)])
    assert failed.value.reason == "MALFORMED_TOOL_CALL"


def test_events_without_an_event_line_are_read_by_their_type() -> None:
    stream = reader()
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "Hi"},
    }
    assert stream.read("message", json.dumps(delta)) == [TextDelta("Hi")]
    with pytest.raises(Unavailable):
        stream.read("message", json.dumps({"type": "error", "error": {"type": "api_error"}}))


def test_an_event_that_is_not_a_json_object_is_a_bad_response() -> None:
    with pytest.raises(Unavailable) as failed:
        reader().read("content_block_delta", "[1, 2]")
    assert failed.value.reason == PROVIDER_BAD_RESPONSE


def test_the_message_id_stands_in_for_a_missing_request_id_header() -> None:
    finish = read_all([start(), *end("end_turn")])[-1]
    assert isinstance(finish, Finish)
    assert (finish.provider_request_id, finish.model) == ("msg_1", "claude-haiku-4-5")
    with_header = read_all([start(), *end("end_turn")], request_id="req_9")[-1]
    assert isinstance(with_header, Finish) and with_header.provider_request_id == "req_9"


def test_later_usage_replaces_earlier_counts_and_unreported_counts_stay_none() -> None:
    parts = read_all(
        [start({"input_tokens": 5, "output_tokens": 1}), *end("end_turn", {"output_tokens": 30})]
    )
    assert parts[-2] == Usage(input_tokens=5, output_tokens=30)


@pytest.mark.parametrize(
    ("error_type", "code_name", "retryable"),
    [
        ("overloaded_error", "UNAVAILABLE", True),
        ("api_error", "UNAVAILABLE", True),
        ("rate_limit_error", "RESOURCE_EXHAUSTED", True),
        ("invalid_request_error", "INVALID_ARGUMENT", False),
        ("authentication_error", "FAILED_PRECONDITION", False),
        ("not_found_error", "NOT_FOUND", False),
        ("a_future_error", "UNAVAILABLE", True),
    ],
)
def test_an_error_event_maps_by_its_type(error_type: str, code_name: str, retryable: bool) -> None:
    data = json.dumps({"type": "error", "error": {"type": error_type, "message": "sk-ant-secret"}})
    error = stream_error("anthropic", data, ("sk-ant-secret",))
    assert isinstance(error, ServiceError)
    assert (error.code.name, error.retryable) == (code_name, retryable)
    assert error.reason == "PROVIDER_STREAM_ERROR"
    assert "sk-ant-secret" not in error.message


def test_an_error_event_in_plain_text_still_ends_the_call() -> None:
    error = stream_error("anthropic", "upstream connect error", ())
    assert isinstance(error, Unavailable)
    assert error.message.endswith("upstream connect error")
