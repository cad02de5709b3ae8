"""Tool calls assembled from streamed fragments: complete, in order, parallel calls apart."""

from __future__ import annotations

import json

import pytest

from integration_api.errors import Internal
from integration_api.llm.contract import ToolCall
from integration_api.llm.tool_calls import MALFORMED_TOOL_CALL, ToolCallAccumulator


def start(index: int, call_id: str, name: str) -> dict[str, object]:
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": ""},
    }


def piece(index: int, arguments: str) -> dict[str, object]:
    return {"index": index, "function": {"arguments": arguments}}


def test_fragments_of_one_call_are_joined_into_arguments_that_parse() -> None:
    calls = ToolCallAccumulator("openai")
    calls.add(start(0, "call_a", "get_weather"))
    for fragment in ['{"', "city", '":"', "Paris", '"}']:
        calls.add(piece(0, fragment))
    assert calls.complete() == [ToolCall(0, "call_a", "get_weather", '{"city":"Paris"}')]


def test_interleaved_parallel_calls_are_kept_apart_by_index() -> None:
    calls = ToolCallAccumulator("openai")
    calls.add(start(0, "call_a", "get_weather"))
    calls.add(start(1, "call_b", "get_time"))
    calls.add(piece(1, '{"timezone":'))
    calls.add(piece(0, '{"city":'))
    calls.add(piece(0, '"Paris"}'))
    calls.add(piece(1, '"UTC"}'))
    completed = calls.complete()
    assert [(call.index, call.id, call.name) for call in completed] == [
        (0, "call_a", "get_weather"),
        (1, "call_b", "get_time"),
    ]
    assert [json.loads(call.arguments_json) for call in completed] == [
        {"city": "Paris"},
        {"timezone": "UTC"},
    ]


def test_whole_calls_without_index_are_numbered_in_order() -> None:
    calls = ToolCallAccumulator("mistral")
    calls.add({"id": "a1", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}})
    calls.add({"id": "b2", "function": {"name": "get_time", "arguments": '{"timezone": "UTC"}'}})
    assert [(call.index, call.id) for call in calls.complete()] == [(0, "a1"), (1, "b2")]


def test_a_call_without_arguments_gets_an_empty_object_and_a_missing_id_a_stand_in() -> None:
    calls = ToolCallAccumulator("openai-compatible")
    calls.add({"index": 0, "function": {"name": "list_rooms"}})
    assert calls.complete() == [ToolCall(0, "call_0", "list_rooms", "{}")]


def test_arguments_sent_as_an_object_are_serialized() -> None:
    calls = ToolCallAccumulator("openai-compatible")
    calls.add({"index": 0, "id": "c", "function": {"name": "f", "arguments": {"a": 1}}})
    assert json.loads(calls.complete()[0].arguments_json) == {"a": 1}


@pytest.mark.parametrize(
    "fragments",
    [
        [start(0, "call_a", "get_weather"), piece(0, '{"city": "Par')],
        [{"index": 0, "id": "call_a", "function": {"arguments": "{}"}}],
    ],
    ids=["truncated arguments", "no name"],
)
def test_a_call_that_cannot_be_completed_is_an_error_not_a_broken_call(
    fragments: list[dict[str, object]],
) -> None:
    calls = ToolCallAccumulator("openai")
    for fragment in fragments:
        calls.add(fragment)
    with pytest.raises(Internal) as raised:
        calls.complete()
    assert raised.value.reason == MALFORMED_TOOL_CALL


def test_completing_empties_the_accumulator() -> None:
    calls = ToolCallAccumulator("openai")
    calls.add(start(0, "call_a", "f"))
    assert calls
    calls.complete()
    assert not calls
    assert calls.complete() == []
