"""Writes a normalized chat request as an Anthropic Messages body (`POST /v1/messages`).

| normalized                               | Anthropic                                            |
| ---------------------------------------- | ---------------------------------------------------- |
| system messages (wherever they are)      | `system`: text blocks, in order                      |
| user messages                            | user turn: `text` and `image` blocks (base64 or url) |
| assistant reasoning, text, tool calls    | assistant turn: `thinking` / `redacted_thinking`     |
|                                          | first, then `text`, then `tool_use` (input parsed)   |
| tool messages                            | `tool_result` blocks, first in a user turn           |
| consecutive messages of one role         | one turn (Anthropic requires turns to alternate)     |
| `cache_breakpoint` / `cache_tools`       | `cache_control: ephemeral` on the message's last     |
|                                          | block (a system message: its block) / the last tool  |
| tool_choice auto / required / none / tool| `auto` / `any` / `none` / `tool`                     |
| `parallel_tool_calls = false`            | `tool_choice.disable_parallel_tool_use`              |
| max_tokens, stop, temperature, top_p     | `max_tokens`, `stop_sequences`, `temperature`, top_p |
| `reasoning_budget_tokens`                | `thinking: {type: enabled, budget_tokens}`           |

Refused naming the field, never dropped: seed, frequency and presence penalties, a JSON
response format and `reasoning_effort` (Anthropic takes none of them), a thinking budget under
1024 tokens or not below `max_tokens`, forced tool use or a temperature with thinking on, more
than four cache breakpoints. Unsigned reasoning in history (another provider's) is left out:
Anthropic takes back only the thinking blocks it signed.

See: https://docs.claude.com/en/api/messages,
https://docs.claude.com/en/docs/build-with-claude/extended-thinking,
https://docs.claude.com/en/docs/build-with-claude/prompt-caching.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from integration_api.errors import InvalidArgument
from integration_api.llm.contract import (
    ChatMessage,
    ChatRequest,
    ImageContent,
    ModelParameters,
    ResponseFormatType,
    Role,
    TextContent,
    ToolChoiceMode,
    ToolDefinition,
)
from integration_api.providers.anthropic.verification import PROVIDER
from integration_api.providers.tool_wire import arguments_object, parameters_schema
from integration_api.providers.turns import BlockFormat, conversation

JsonObject = dict[str, object]

MIN_THINKING_BUDGET = 1024
MAX_CACHE_BREAKPOINTS = 4
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_EPHEMERAL: JsonObject = {"type": "ephemeral"}
# Parameters of the contract the Messages API has no field for.
_UNSUPPORTED = ("seed", "frequency_penalty", "presence_penalty", "reasoning_effort")


def messages_body(request: ChatRequest, default_max_tokens: int) -> JsonObject:
    """The streaming request body for `request` (its model already resolved).

    `default_max_tokens` is the answer's budget when the request sets none; with a thinking
    budget and no `max_tokens`, the thinking budget comes on top of it.
    """
    parameters = request.parameters
    _refuse_unsupported(parameters)
    _refuse_too_many_breakpoints(request)
    system, turns = conversation(request.messages, _BLOCK_FORMAT)
    body: JsonObject = {
        "model": request.model,
        "max_tokens": _max_tokens(parameters, default_max_tokens),
        "stream": True,
    }
    if system:
        body["system"] = system
    body["messages"] = turns
    if request.tools:
        body["tools"] = _tools(request.tools, request.cache_tools)
    tool_choice = _tool_choice(request)
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    body.update(_sampling(parameters))
    return body


def _refuse_unsupported(parameters: ModelParameters) -> None:
    for name in _UNSUPPORTED:
        if getattr(parameters, name) is not None:
            raise InvalidArgument.for_field(
                f"parameters.{name}", f"{PROVIDER} does not support this parameter"
            )
    response_format = parameters.response_format
    if response_format is not None and response_format.type is not ResponseFormatType.TEXT:
        raise InvalidArgument.for_field(
            "parameters.response_format.type", f"{PROVIDER} supports text answers only"
        )


def _refuse_too_many_breakpoints(request: ChatRequest) -> None:
    count = int(request.cache_tools and bool(request.tools))
    for index, message in enumerate(request.messages):
        count += message.cache_breakpoint
        if count > MAX_CACHE_BREAKPOINTS:
            raise InvalidArgument.for_field(
                f"messages[{index}].cache_breakpoint",
                f"{PROVIDER} takes at most {MAX_CACHE_BREAKPOINTS} cache breakpoints per request",
            )


def _max_tokens(parameters: ModelParameters, default_max_tokens: int) -> int:
    budget = parameters.reasoning_budget_tokens
    if parameters.max_tokens is None:
        return default_max_tokens + (budget or 0)
    if budget is not None and budget >= parameters.max_tokens:
        raise InvalidArgument.for_field(
            "parameters.reasoning_budget_tokens", "must be less than parameters.max_tokens"
        )
    return parameters.max_tokens


def _marked(blocks: list[JsonObject], message: ChatMessage) -> list[JsonObject]:
    """The blocks, the last one carrying the message's cache breakpoint."""
    if message.cache_breakpoint and blocks:
        blocks[-1]["cache_control"] = dict(_EPHEMERAL)
    return blocks


def _system_blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    _refuse_images(message, index)
    text = message.text()
    return [{"type": "text", "text": text}] if text else []


def _blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    if message.role is Role.TOOL:
        return [_tool_result(message, index)]
    if message.role is Role.ASSISTANT:
        return _assistant_blocks(message, index)
    return _content_blocks(message, index)


def _content_blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    """Text and images in their order; empty text is left out (Anthropic refuses it)."""
    blocks: list[JsonObject] = []
    for position, item in enumerate(message.content):
        if isinstance(item, TextContent):
            if item.text:
                blocks.append({"type": "text", "text": item.text})
        else:
            blocks.append(_image(item, f"messages[{index}].parts[{position}].image"))
    return blocks


def _image(image: ImageContent, field_path: str) -> JsonObject:
    if image.url:
        return {"type": "image", "source": {"type": "url", "url": image.url}}
    if image.media_type not in IMAGE_MEDIA_TYPES:
        accepted = ", ".join(sorted(IMAGE_MEDIA_TYPES))
        raise InvalidArgument.for_field(f"{field_path}.media_type", f"must be one of {accepted}")
    encoded = base64.b64encode(image.data).decode("ascii")
    source = {"type": "base64", "media_type": image.media_type, "data": encoded}
    return {"type": "image", "source": source}


def _refuse_images(message: ChatMessage, index: int) -> None:
    for position, item in enumerate(message.content):
        if isinstance(item, ImageContent):
            raise InvalidArgument.for_field(
                f"messages[{index}].parts[{position}].image",
                f"images are accepted in user and tool messages, not in {message.role.value} ones",
            )


def _tool_result(message: ChatMessage, index: int) -> JsonObject:
    if not message.tool_call_id:
        raise InvalidArgument.for_field(
            f"messages[{index}].tool_call_id", "is required for a tool message"
        )
    result: JsonObject = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if any(isinstance(item, ImageContent) for item in message.content):
        result["content"] = _content_blocks(message, index)
    elif message.text():
        result["content"] = message.text()
    return result


def _assistant_blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    _refuse_images(message, index)
    blocks: list[JsonObject] = []
    for block in message.reasoning:
        if block.redacted_data:
            blocks.append({"type": "redacted_thinking", "data": block.redacted_data})
        elif block.signature:
            blocks.append(
                {"type": "thinking", "thinking": block.text, "signature": block.signature}
            )
    blocks.extend(_content_blocks(message, index))
    for position, call in enumerate(message.tool_calls):
        where = f"messages[{index}].tool_calls[{position}]"
        if not call.id:
            raise InvalidArgument.for_field(f"{where}.id", "is required to send a call back")
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": arguments_object(call.arguments_json, f"{where}.arguments_json"),
            }
        )
    return blocks


def _tools(tools: Iterable[ToolDefinition], cache_tools: bool) -> list[JsonObject]:
    written: list[JsonObject] = []
    for tool in tools:
        entry: JsonObject = {"name": tool.name}
        if tool.description:
            entry["description"] = tool.description
        entry["input_schema"] = parameters_schema(tool)
        written.append(entry)
    if cache_tools and written:
        written[-1]["cache_control"] = dict(_EPHEMERAL)
    return written


def _tool_choice(request: ChatRequest) -> JsonObject | None:
    choice = request.tool_choice
    parallel = request.parameters.parallel_tool_calls
    if parallel is not None and not request.tools:
        raise InvalidArgument.for_field("parameters.parallel_tool_calls", "requires tools")
    mode = choice.mode if choice is not None else None
    if mode is ToolChoiceMode.NONE:
        return {"type": "none"} if request.tools else None
    if mode in (ToolChoiceMode.REQUIRED, ToolChoiceMode.TOOL):
        written = _forced_tool_choice(request)
    elif request.tools and (mode is ToolChoiceMode.AUTO or parallel is False):
        written = {"type": "auto"}
    else:
        return None
    if parallel is False:
        written["disable_parallel_tool_use"] = True
    return written


def _forced_tool_choice(request: ChatRequest) -> JsonObject:
    choice = request.tool_choice
    assert choice is not None
    if not request.tools:
        raise InvalidArgument.for_field("tool_choice.mode", "requires tools")
    if request.parameters.reasoning_budget_tokens is not None:
        raise InvalidArgument.for_field(
            "tool_choice.mode", f"{PROVIDER} cannot force a tool call while thinking"
        )
    if choice.mode is ToolChoiceMode.REQUIRED:
        return {"type": "any"}
    if not choice.tool_name:
        raise InvalidArgument.for_field("tool_choice.tool_name", "is required to call a tool")
    if all(tool.name != choice.tool_name for tool in request.tools):
        raise InvalidArgument.for_field("tool_choice.tool_name", "names no tool of the request")
    return {"type": "tool", "name": choice.tool_name}


def _sampling(parameters: ModelParameters) -> JsonObject:
    written: JsonObject = {}
    if parameters.stop:
        written["stop_sequences"] = list(parameters.stop)
    if parameters.temperature is not None:
        if not 0 <= parameters.temperature <= 1:
            raise InvalidArgument.for_field("parameters.temperature", "must be between 0 and 1")
        written["temperature"] = parameters.temperature
    if parameters.top_p is not None:
        written["top_p"] = parameters.top_p
    budget = parameters.reasoning_budget_tokens
    if budget is not None:
        _check_thinking(parameters, budget)
        written["thinking"] = {"type": "enabled", "budget_tokens": budget}
    return written


def _check_thinking(parameters: ModelParameters, budget: int) -> None:
    """Extended thinking's documented limits, checked before Anthropic would refuse them."""
    if budget < MIN_THINKING_BUDGET:
        raise InvalidArgument.for_field(
            "parameters.reasoning_budget_tokens", f"must be at least {MIN_THINKING_BUDGET}"
        )
    if parameters.temperature is not None and parameters.temperature != 1:
        raise InvalidArgument.for_field(
            "parameters.temperature", f"{PROVIDER} takes no temperature but 1 while thinking"
        )
    if parameters.top_p is not None and not 0.95 <= parameters.top_p <= 1:
        raise InvalidArgument.for_field(
            "parameters.top_p", f"{PROVIDER} takes top_p between 0.95 and 1 while thinking"
        )


_BLOCK_FORMAT = BlockFormat(
    system_blocks=lambda message, index: _marked(_system_blocks(message, index), message),
    blocks=lambda message, index: _marked(_blocks(message, index), message),
    is_tool_result=lambda block: block["type"] == "tool_result",
)
