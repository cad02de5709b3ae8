"""How a normalized request becomes an Anthropic Messages body (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from integration_api.errors import InvalidArgument
from integration_api.llm.contract import (
    ChatMessage,
    ChatRequest,
    ImageContent,
    ModelParameters,
    ReasoningBlock,
    Role,
    TextContent,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolDefinition,
)
from integration_api.providers.anthropic.request import messages_body

EPHEMERAL = {"type": "ephemeral"}
WEATHER = ToolDefinition("get_weather")


def says(
    role: Role, *texts: str, tool_call_id: str = "", cache_breakpoint: bool = False
) -> ChatMessage:
    content = tuple(TextContent(text) for text in texts)
    return ChatMessage(role, content, tool_call_id=tool_call_id, cache_breakpoint=cache_breakpoint)


def body_for(*messages: ChatMessage, **fields: Any) -> Any:
    """The body as plain JSON data, for comparisons."""
    request = ChatRequest("credential", "claude-sonnet-4-5", messages, **fields)
    return messages_body(request, default_max_tokens=4096)


def test_system_messages_are_hoisted_in_order_and_never_sent_as_a_role() -> None:
    body = body_for(
        says(Role.SYSTEM, "Be terse."),
        says(Role.USER, "Hi"),
        says(Role.SYSTEM, "Answer in French."),
    )
    assert body["system"] == [
        {"type": "text", "text": "Be terse."},
        {"type": "text", "text": "Answer in French."},
    ]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]


def test_consecutive_messages_of_one_role_become_one_turn() -> None:
    body = body_for(
        says(Role.USER, "Hi"),
        says(Role.USER, "Are you there?"),
        says(Role.ASSISTANT, "Yes."),
        says(Role.ASSISTANT, "How can I help?"),
    )
    assert [turn["role"] for turn in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Yes."},
        {"type": "text", "text": "How can I help?"},
    ]


def test_tool_results_join_one_user_turn_ahead_of_the_users_text() -> None:
    calls = (
        ToolCall(0, "toolu_1", "get_weather", '{"city":"Paris"}'),
        ToolCall(1, "toolu_2", "get_time", ""),
    )
    body = body_for(
        says(Role.USER, "Weather and time?"),
        ChatMessage(Role.ASSISTANT, tool_calls=calls),
        says(Role.USER, "Quickly please."),
        says(Role.TOOL, "21C", tool_call_id="toolu_1"),
        says(Role.TOOL, tool_call_id="toolu_2"),
    )
    turns = body["messages"]
    assert turns[1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
    ]
    assert turns[2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "21C"},
            {"type": "tool_result", "tool_use_id": "toolu_2"},
            {"type": "text", "text": "Quickly please."},
        ],
    }


def test_images_go_as_url_or_base64_sources_also_inside_a_tool_result() -> None:
    picture = ImageContent(data=b"\xff\xd8", media_type="image/jpeg")
    jpeg = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9g="},
    }
    body = body_for(
        ChatMessage(Role.USER, (ImageContent(url="https://example.com/a.png"), picture)),
        ChatMessage(Role.TOOL, (TextContent("chart"), picture), tool_call_id="toolu_1"),
    )
    assert body["messages"][0]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [{"type": "text", "text": "chart"}, jpeg],
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        jpeg,
    ]


def test_signed_and_redacted_reasoning_lead_the_assistant_turn_and_unsigned_is_left_out() -> None:
    reasoning = (
        ReasoningBlock(text="thinking from another model"),
        ReasoningBlock(text="Let me see.", signature="sig"),
        ReasoningBlock(redacted_data="opaque"),
    )
    body = body_for(
        says(Role.USER, "Hi"),
        ChatMessage(
            Role.ASSISTANT,
            (TextContent("Hello"),),
            (ToolCall(0, "toolu_1", "get_weather", "{}"),),
            reasoning=reasoning,
        ),
    )
    assert [block["type"] for block in body["messages"][1]["content"]] == [
        "thinking",
        "redacted_thinking",
        "text",
        "tool_use",
    ]
    thinking, redacted = body["messages"][1]["content"][:2]
    assert thinking == {"type": "thinking", "thinking": "Let me see.", "signature": "sig"}
    assert redacted == {"type": "redacted_thinking", "data": "opaque"}


def test_cache_breakpoints_mark_the_last_block_of_their_message_and_the_last_tool() -> None:
    body = body_for(
        says(Role.SYSTEM, "Long prompt", cache_breakpoint=True),
        says(Role.USER, "one", cache_breakpoint=True),
        says(Role.USER, "two"),
        tools=(WEATHER, ToolDefinition("get_time")),
        cache_tools=True,
    )
    assert body["system"] == [{"type": "text", "text": "Long prompt", "cache_control": EPHEMERAL}]
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "one", "cache_control": EPHEMERAL},
        {"type": "text", "text": "two"},
    ]
    assert [tool.get("cache_control") for tool in body["tools"]] == [None, EPHEMERAL]


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        (ToolChoice(ToolChoiceMode.AUTO), None, {"type": "auto"}),
        (ToolChoice(ToolChoiceMode.REQUIRED), None, {"type": "any"}),
        (ToolChoice(ToolChoiceMode.NONE), None, {"type": "none"}),
        (
            ToolChoice(ToolChoiceMode.TOOL, "get_weather"),
            None,
            {"type": "tool", "name": "get_weather"},
        ),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (
            ToolChoice(ToolChoiceMode.REQUIRED),
            False,
            {"type": "any", "disable_parallel_tool_use": True},
        ),
        (None, True, None),
    ],
)
def test_tool_choice_and_parallel_calls_are_translated(
    choice: ToolChoice | None, parallel: bool | None, expected: object
) -> None:
    body = body_for(
        says(Role.USER, "Hi"),
        tools=(WEATHER,),
        tool_choice=choice,
        parameters=ModelParameters(parallel_tool_calls=parallel),
    )
    assert body.get("tool_choice") == expected


def test_an_empty_text_is_not_sent_as_an_empty_block() -> None:
    body = body_for(says(Role.SYSTEM, ""), says(Role.USER, "", "Hi"))
    assert "system" not in body
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (ModelParameters(), 4096),
        (ModelParameters(max_tokens=300), 300),
        (ModelParameters(reasoning_budget_tokens=1024), 4096 + 1024),
        (ModelParameters(max_tokens=3000, reasoning_budget_tokens=1024), 3000),
    ],
)
def test_max_tokens_is_always_sent(parameters: ModelParameters, expected: int) -> None:
    assert body_for(says(Role.USER, "Hi"), parameters=parameters)["max_tokens"] == expected


def test_a_tool_call_without_an_id_cannot_be_sent_back() -> None:
    call = ToolCall(0, "", "get_weather", "{}")
    with pytest.raises(InvalidArgument) as refused:
        body_for(says(Role.USER, "Hi"), ChatMessage(Role.ASSISTANT, tool_calls=(call,)))
    assert refused.value.violations[0].field == "messages[1].tool_calls[0].id"
