"""The converters: the contract's parts on the wire, and requests into the contract."""

from __future__ import annotations

import datetime

import pytest
from integration_api_proto.google.protobuf import Struct
from integration_api_proto.integration.v1 import (
    ChatChunk,
    ChatRequest,
    Finish,
    FinishReason,
    Message,
    Role,
    TextDelta,
    Timing,
    Tool,
    ToolCall,
    Usage,
)

from integration_api.llm import contract
from integration_api.llm.converters import chat_request_from_message, chunk_from_part

PARTS_AND_MESSAGES = [
    (contract.TextDelta("Hello, wörld ✓"), ChatChunk(text_delta=TextDelta(text="Hello, wörld ✓"))),
    (
        contract.ToolCall(1, "call_1", "get_weather", '{"city":"Paris"}'),
        ChatChunk(
            tool_call=ToolCall(
                index=1, id="call_1", name="get_weather", arguments_json='{"city":"Paris"}'
            )
        ),
    ),
    (
        contract.Usage(12, 9, 0),
        ChatChunk(usage=Usage(input_tokens=12, output_tokens=9, cached_input_tokens=0)),
    ),
    (contract.Usage(), ChatChunk(usage=Usage())),
    (
        contract.Finish(
            contract.FinishReason.TOOL_CALLS,
            "tool_calls",
            "gpt-4o",
            "req_1",
            contract.Timing(0.012346, 0.000456, 1.5),
        ),
        ChatChunk(
            finish=Finish(
                reason=FinishReason.TOOL_CALLS,
                raw_reason="tool_calls",
                model="gpt-4o",
                provider_request_id="req_1",
                timing=Timing(
                    time_to_first_token=datetime.timedelta(seconds=0.012346),
                    gateway_overhead=datetime.timedelta(seconds=0.000456),
                    total=datetime.timedelta(seconds=1.5),
                ),
            )
        ),
    ),
]


@pytest.mark.parametrize(("part", "message"), PARTS_AND_MESSAGES)
def test_every_part_encodes_like_the_generated_message_and_decodes_back(
    part: contract.StreamPart, message: ChatChunk
) -> None:
    chunk = chunk_from_part(part)
    assert bytes(chunk) == bytes(message)
    assert ChatChunk.FromString(bytes(chunk)).to_dict() == message.to_dict()


def test_usage_not_reported_stays_absent_and_zero_stays_zero_on_the_wire() -> None:
    decoded = ChatChunk.FromString(bytes(chunk_from_part(contract.Usage(0, None, None))))
    assert decoded.usage is not None
    assert (decoded.usage.input_tokens, decoded.usage.output_tokens) == (0, None)


def test_a_tool_schema_keeps_whole_numbers_as_integers() -> None:
    request = chat_request_from_message(
        ChatRequest(
            credential_id="c",
            messages=[Message(role=Role.USER, text="Hi")],
            tools=[
                Tool(
                    name="t",
                    parameters=Struct.from_dict({"type": "integer", "minimum": 1, "x": 0.5}),
                )
            ],
        )
    )
    assert request.tools[0].parameters == {"type": "integer", "minimum": 1, "x": 0.5}
