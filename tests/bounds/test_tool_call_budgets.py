"""Every provider's stream reader holds one answer's tool calls to the same bounds: how many,
and how many bytes of arguments all together, whatever the wire format."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from integration_api.errors import ServiceError
from integration_api.providers.anthropic.stream import AnthropicStreamReader
from integration_api.providers.google.chat_stream import GeminiStreamReader
from integration_api.providers.openai.chat_stream import OpenAIStreamReader
from integration_api.upstream.limits import (
    TOO_MANY_TOOL_CALLS,
    TOOL_ARGUMENTS_TOO_LARGE,
    UpstreamLimits,
)

LIMITS = UpstreamLimits(max_tool_calls=3, max_tool_arguments_bytes=64)
Feed = Callable[[int, str], None]


def _openai(calls: int, arguments: str) -> None:
    reader = OpenAIStreamReader("openai", "", (), LIMITS)
    for index in range(calls):
        fragment = {"index": index, "id": f"c{index}", "function": {"name": "f"}}
        fragment["function"]["arguments"] = arguments  # type: ignore[index]
        delta = {"tool_calls": [fragment]}
        reader.read(json.dumps({"choices": [{"index": 0, "delta": delta}]}))


def _anthropic(calls: int, arguments: str) -> None:
    reader = AnthropicStreamReader("anthropic", "", (), LIMITS)
    for index in range(calls):
        block = {"type": "tool_use", "id": f"t{index}", "name": "f", "input": {}}
        start = {"type": "content_block_start", "index": index, "content_block": block}
        reader.read("content_block_start", json.dumps(start))
        delta = {"type": "input_json_delta", "partial_json": arguments}
        piece = {"type": "content_block_delta", "index": index, "delta": delta}
        reader.read("content_block_delta", json.dumps(piece))


def _gemini(calls: int, arguments: str) -> None:
    reader = GeminiStreamReader("gemini", (), LIMITS)
    parts = [{"functionCall": {"name": "f", "args": {"a": arguments}}} for _ in range(calls)]
    reader.read(json.dumps({"candidates": [{"content": {"role": "model", "parts": parts}}]}))


READERS: dict[str, Feed] = {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini}


@pytest.mark.parametrize("feed", READERS.values(), ids=READERS.keys())
def test_calls_within_the_bounds_are_read(feed: Feed) -> None:
    feed(3, "1")


@pytest.mark.parametrize("feed", READERS.values(), ids=READERS.keys())
def test_one_call_more_than_the_bound_ends_the_answer(feed: Feed) -> None:
    with pytest.raises(ServiceError) as refused:
        feed(4, "1")
    assert refused.value.reason == TOO_MANY_TOOL_CALLS


@pytest.mark.parametrize("feed", READERS.values(), ids=READERS.keys())
def test_arguments_past_their_bound_end_the_answer(feed: Feed) -> None:
    with pytest.raises(ServiceError) as refused:
        feed(2, "x" * 40)
    assert refused.value.reason == TOOL_ARGUMENTS_TOO_LARGE
