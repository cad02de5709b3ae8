"""Writes a normalized chat request as an OpenAI-style `chat/completions` body.

Members of the family spell a few fields differently; a `ChatDialect` says how:

| dialect           | max tokens              | seed          | usage        | refuses             |
| ----------------- | ----------------------- | ------------- | ------------ | ------------------- |
| openai, azure     | `max_completion_tokens` | `seed`        | asked for    |                     |
| mistral           | `max_tokens`            | `random_seed` | sent unasked |                     |
| huggingface       | `max_tokens`            | `seed`        | asked for    | parallel_tool_calls |
| openai-compatible | `max_tokens`            | `seed`        | asked for    |                     |

A parameter the provider cannot take is refused with INVALID_ARGUMENT naming it, never dropped:
no member takes a thinking budget (`reasoning_budget_tokens`); `reasoning_effort` is sent as
it is. Reasoning blocks in history are left out (the family takes none back) and prompt-cache
breakpoints are ignored (the family caches prompts on its own).

See: https://platform.openai.com/docs/api-reference/chat/create,
https://docs.mistral.ai/api/#tag/chat,
https://huggingface.co/docs/inference-providers/tasks/chat-completion.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from integration_api.errors import InvalidArgument
from integration_api.llm.contract import (
    ChatMessage,
    ChatRequest,
    ImageContent,
    ModelParameters,
    ResponseFormat,
    ResponseFormatType,
    Role,
    TextContent,
    ToolChoiceMode,
    ToolDefinition,
)
from integration_api.providers.tool_wire import parameters_schema

JsonObject = dict[str, object]


@dataclass(frozen=True)
class ChatDialect:
    """How one member of the OpenAI family spells a chat request."""

    provider: str
    max_tokens_field: str = "max_completion_tokens"
    seed_field: str = "seed"
    # Mistral sends usage without being asked and does not take `stream_options`.
    requests_usage: bool = True
    # `ModelParameters` fields the provider does not accept.
    unsupported: frozenset[str] = frozenset({"reasoning_budget_tokens"})


def chat_body(request: ChatRequest, dialect: ChatDialect) -> JsonObject:
    """The streaming request body for `request` (its model already resolved)."""
    _refuse_unsupported(request.parameters, dialect)
    body: JsonObject = {
        "model": request.model,
        "messages": [_message(message, index) for index, message in enumerate(request.messages)],
        "stream": True,
    }
    if dialect.requests_usage:
        body["stream_options"] = {"include_usage": True}
    if request.tools:
        body["tools"] = [_tool(tool) for tool in request.tools]
    tool_choice = _tool_choice(request)
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    body.update(_parameters(request.parameters, dialect, has_tools=bool(request.tools)))
    return body


def _refuse_unsupported(parameters: ModelParameters, dialect: ChatDialect) -> None:
    for name in sorted(dialect.unsupported):
        value = getattr(parameters, name)
        if value is not None and value != ():
            raise InvalidArgument.for_field(
                f"parameters.{name}", f"{dialect.provider} does not support this parameter"
            )


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
        written: JsonObject = {"role": "assistant", "content": _text_only(message, index) or None}
        if message.tool_calls:
            written["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json or "{}"},
                }
                for call in message.tool_calls
            ]
        return written
    if role is Role.SYSTEM:
        return {"role": "system", "content": _text_only(message, index)}
    return {"role": "user", "content": _user_content(message, index)}


def _text_only(message: ChatMessage, index: int) -> str:
    for position, item in enumerate(message.content):
        if isinstance(item, ImageContent):
            raise InvalidArgument.for_field(
                f"messages[{index}].parts[{position}].image",
                f"images are accepted in user messages only, not in {message.role.value} messages",
            )
    return message.text()


def _user_content(message: ChatMessage, index: int) -> str | list[JsonObject]:
    items = message.content
    if all(isinstance(item, TextContent) for item in items) and len(items) <= 1:
        return message.text()
    parts: list[JsonObject] = []
    for position, item in enumerate(items):
        if isinstance(item, TextContent):
            parts.append({"type": "text", "text": item.text})
        else:
            url = _image_url(item, f"messages[{index}].parts[{position}].image")
            parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def _image_url(image: ImageContent, field_path: str) -> str:
    if image.url:
        return image.url
    if not image.media_type:
        raise InvalidArgument.for_field(f"{field_path}.media_type", "is required with data")
    encoded = base64.b64encode(image.data).decode("ascii")
    return f"data:{image.media_type};base64,{encoded}"


def _tool(tool: ToolDefinition) -> JsonObject:
    function: JsonObject = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = parameters_schema(tool)
    return {"type": "function", "function": function}


def _tool_choice(request: ChatRequest) -> object:
    choice = request.tool_choice
    if choice is None:
        return None
    if choice.mode in (ToolChoiceMode.AUTO, ToolChoiceMode.NONE):
        # Without tools these are the provider's behaviour anyway, and OpenAI refuses the field.
        return choice.mode.value if request.tools else None
    if not request.tools:
        raise InvalidArgument.for_field("tool_choice.mode", "requires tools")
    if choice.mode is ToolChoiceMode.REQUIRED:
        return "required"
    if not choice.tool_name:
        raise InvalidArgument.for_field("tool_choice.tool_name", "is required to call a tool")
    if all(tool.name != choice.tool_name for tool in request.tools):
        raise InvalidArgument.for_field("tool_choice.tool_name", "names no tool of the request")
    return {"type": "function", "function": {"name": choice.tool_name}}


def _parameters(
    parameters: ModelParameters, dialect: ChatDialect, *, has_tools: bool
) -> JsonObject:
    written: JsonObject = {}
    simple = (
        ("temperature", parameters.temperature),
        ("top_p", parameters.top_p),
        (dialect.max_tokens_field, parameters.max_tokens),
        (dialect.seed_field, parameters.seed),
        ("frequency_penalty", parameters.frequency_penalty),
        ("presence_penalty", parameters.presence_penalty),
    )
    for name, value in simple:
        if value is not None:
            written[name] = value
    if parameters.stop:
        written["stop"] = list(parameters.stop)
    if parameters.response_format is not None:
        written["response_format"] = _response_format(parameters.response_format)
    if parameters.reasoning_effort is not None:
        written["reasoning_effort"] = parameters.reasoning_effort.value
    if parameters.parallel_tool_calls is not None:
        if not has_tools:
            raise InvalidArgument.for_field("parameters.parallel_tool_calls", "requires tools")
        written["parallel_tool_calls"] = parameters.parallel_tool_calls
    return written


def _response_format(response_format: ResponseFormat) -> JsonObject:
    if response_format.type is not ResponseFormatType.JSON_SCHEMA:
        return {"type": response_format.type.value}
    if response_format.json_schema is None:
        raise InvalidArgument.for_field(
            "parameters.response_format.json_schema",
            "is required for RESPONSE_FORMAT_TYPE_JSON_SCHEMA",
        )
    return {
        "type": "json_schema",
        "json_schema": {
            "name": response_format.schema_name or "response",
            "schema": dict(response_format.json_schema),
            "strict": response_format.strict,
        },
    }
