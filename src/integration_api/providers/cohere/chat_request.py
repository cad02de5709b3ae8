"""Writes a normalized chat request as a Cohere v2 `/v2/chat` body.

| normalized                          | Cohere v2                                               |
| ----------------------------------- | ------------------------------------------------------- |
| system / user / assistant / tool    | `system` / `user` / `assistant` / `tool` messages       |
| user images                         | `image_url` content parts (vision models)               |
| assistant tool calls, its reasoning | `tool_calls`, and the reasoning text as its `tool_plan` |
| tool result                         | `{"role":"tool","tool_call_id",content}`                |
| tool choice auto / none / required  | left out / `NONE` / `REQUIRED`                          |
| tool choice naming a tool           | only that tool is sent, with `REQUIRED`                 |
| top_p, stop, reasoning budget       | `p`, `stop_sequences`, `thinking.token_budget`          |
| response format json / json schema  | `{"type":"json_object"}`, with `json_schema`            |

Cohere has no `reasoning_effort` and no switch for parallel tool calls: both are refused
(INVALID_ARGUMENT naming the parameter), never dropped. Prompt-cache breakpoints are ignored
(Cohere caches on its own); reasoning blocks without tool calls are not sent back.

See: https://docs.cohere.com/reference/chat-stream.
"""

from __future__ import annotations

import base64

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
from integration_api.providers.cohere.verification import PROVIDER
from integration_api.providers.tool_wire import parameters_schema

JsonObject = dict[str, object]
_REFUSED_PARAMETERS = ("reasoning_effort", "parallel_tool_calls")


def chat_body(request: ChatRequest) -> JsonObject:
    """The streaming request body for `request` (its model already resolved)."""
    for name in _REFUSED_PARAMETERS:
        if getattr(request.parameters, name) is not None:
            raise InvalidArgument.for_field(
                f"parameters.{name}", f"{PROVIDER} does not support this parameter"
            )
    body: JsonObject = {
        "model": request.model,
        "messages": [_message(message, index) for index, message in enumerate(request.messages)],
        "stream": True,
    }
    tools, tool_choice = _tools_and_choice(request)
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    body.update(_parameters(request.parameters))
    return body


def _message(message: ChatMessage, index: int) -> JsonObject:
    role = message.role
    if role is Role.TOOL:
        if not message.tool_call_id:
            raise InvalidArgument.for_field(
                f"messages[{index}].tool_call_id", "is required for a tool message"
            )
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": _text_only(message, index),
        }
    if role is Role.ASSISTANT:
        return _assistant(message, index)
    if role is Role.SYSTEM:
        return {"role": "system", "content": _text_only(message, index)}
    return {"role": "user", "content": _user_content(message, index)}


def _assistant(message: ChatMessage, index: int) -> JsonObject:
    written: JsonObject = {"role": "assistant"}
    text = _text_only(message, index)
    if text:
        written["content"] = text
    if message.tool_calls:
        plan = "".join(block.text for block in message.reasoning)
        if plan:
            written["tool_plan"] = plan
        written["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json or "{}"},
            }
            for call in message.tool_calls
        ]
    return written


def _text_only(message: ChatMessage, index: int) -> str:
    for position, item in enumerate(message.content):
        if isinstance(item, ImageContent):
            raise InvalidArgument.for_field(
                f"messages[{index}].parts[{position}].image",
                f"images are accepted in user messages only, not in {message.role.value} messages",
            )
    return message.text()


def _user_content(message: ChatMessage, index: int) -> str | list[JsonObject]:
    if all(isinstance(item, TextContent) for item in message.content):
        return message.text()
    parts: list[JsonObject] = []
    for position, item in enumerate(message.content):
        if isinstance(item, TextContent):
            parts.append({"type": "text", "text": item.text})
            continue
        url = item.url
        if not url:
            field_path = f"messages[{index}].parts[{position}].image.media_type"
            if not item.media_type:
                raise InvalidArgument.for_field(field_path, "is required with data")
            url = f"data:{item.media_type};base64,{base64.b64encode(item.data).decode('ascii')}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def _tool(tool: ToolDefinition) -> JsonObject:
    function: JsonObject = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = parameters_schema(tool)
    return {"type": "function", "function": function}


def _tools_and_choice(request: ChatRequest) -> tuple[tuple[ToolDefinition, ...], str | None]:
    """The tools to send and Cohere's `tool_choice` (None: left out, Cohere decides)."""
    choice = request.tool_choice
    if choice is None or choice.mode is ToolChoiceMode.AUTO:
        return request.tools, None
    if choice.mode is ToolChoiceMode.NONE:
        return request.tools, "NONE" if request.tools else None
    if not request.tools:
        raise InvalidArgument.for_field("tool_choice.mode", "requires tools")
    if choice.mode is ToolChoiceMode.REQUIRED:
        return request.tools, "REQUIRED"
    if not choice.tool_name:
        raise InvalidArgument.for_field("tool_choice.tool_name", "is required to call a tool")
    named = tuple(tool for tool in request.tools if tool.name == choice.tool_name)
    if not named:
        raise InvalidArgument.for_field("tool_choice.tool_name", "names no tool of the request")
    # Cohere cannot name the tool to call; offering only that one and requiring a call can.
    return named, "REQUIRED"


def _parameters(parameters: ModelParameters) -> JsonObject:
    written: JsonObject = {}
    simple = (
        ("temperature", parameters.temperature),
        ("p", parameters.top_p),
        ("max_tokens", parameters.max_tokens),
        ("seed", parameters.seed),
        ("frequency_penalty", parameters.frequency_penalty),
        ("presence_penalty", parameters.presence_penalty),
    )
    for name, value in simple:
        if value is not None:
            written[name] = value
    if parameters.stop:
        written["stop_sequences"] = list(parameters.stop)
    if parameters.reasoning_budget_tokens is not None:
        written["thinking"] = {
            "type": "enabled",
            "token_budget": parameters.reasoning_budget_tokens,
        }
    response_format = parameters.response_format
    if response_format is not None and response_format.type is not ResponseFormatType.TEXT:
        written_format: JsonObject = {"type": "json_object"}
        if response_format.type is ResponseFormatType.JSON_SCHEMA:
            if response_format.json_schema is None:
                raise InvalidArgument.for_field(
                    "parameters.response_format.json_schema",
                    "is required for RESPONSE_FORMAT_TYPE_JSON_SCHEMA",
                )
            written_format["json_schema"] = dict(response_format.json_schema)
        written["response_format"] = written_format
    return written
