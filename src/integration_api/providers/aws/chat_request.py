"""Writes a normalized chat request as a Bedrock Converse body, one for every model family.

| normalized                              | Converse                                              |
| --------------------------------------- | ----------------------------------------------------- |
| system messages (wherever they are)     | `system`: text blocks, in order                       |
| user messages                           | user turn: `text` and `image` blocks (bytes)          |
| assistant reasoning, text, tool calls   | assistant turn: `reasoningContent` (signed text or    |
|                                         | redacted), then `text`, then `toolUse` (input parsed) |
| tool messages                           | `toolResult` blocks, first in a user turn             |
| consecutive messages of one role        | one turn (Converse requires turns to alternate)       |
| `cache_breakpoint` / `cache_tools`      | a `cachePoint` block after the message / the tools    |
| tool_choice auto / required / tool      | `toolConfig.toolChoice` `auto` / `any` / `tool`       |
| tool_choice none                        | no `toolConfig` (Converse has no "none")              |
| max_tokens, temperature, top_p, stop    | `inferenceConfig` maxTokens, temperature, topP,       |
|                                         | stopSequences                                         |
| `reasoning_budget_tokens`               | `additionalModelRequestFields.thinking` (Anthropic    |
|                                         | models, the only family on Bedrock that takes one)    |

Refused naming the field, never dropped: seed, frequency and presence penalties, a JSON
response format and `reasoning_effort` (Converse has no field for them), turning parallel tool
calls off, images by URL (Converse takes image bytes), a thinking budget for a model family
that takes none. Unsigned reasoning in history (another provider's) is left out.

See: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html,
https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html.
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
from integration_api.providers.aws.verification import PROVIDER
from integration_api.providers.tool_wire import arguments_object, parameters_schema
from integration_api.providers.turns import BlockFormat, conversation

JsonObject = dict[str, object]

IMAGE_FORMATS = {"image/jpeg": "jpeg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
MIN_THINKING_BUDGET = 1024
_CACHE_POINT: JsonObject = {"cachePoint": {"type": "default"}}
_UNSUPPORTED = ("seed", "frequency_penalty", "presence_penalty", "reasoning_effort")
_BUDGET_FIELD = "parameters.reasoning_budget_tokens"


def converse_body(request: ChatRequest) -> JsonObject:
    """The ConverseStream body for `request` (the model travels in the URL, not here)."""
    parameters = request.parameters
    _refuse_unsupported(parameters)
    system, turns = conversation(request.messages, _BLOCK_FORMAT)
    body: JsonObject = {"messages": turns}
    if system:
        body["system"] = system
    inference = _inference_config(parameters)
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(request)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    additional = _additional_fields(request)
    if additional:
        body["additionalModelRequestFields"] = additional
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
    if parameters.parallel_tool_calls is False:
        raise InvalidArgument.for_field(
            "parameters.parallel_tool_calls", f"{PROVIDER} cannot turn parallel tool calls off"
        )


def _marked(blocks: list[JsonObject], message: ChatMessage) -> list[JsonObject]:
    """The blocks, followed by a cache point when the message asks for one."""
    if message.cache_breakpoint and blocks:
        blocks.append(dict(_CACHE_POINT))
    return blocks


def _system_blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    _refuse_images(message, index)
    text = message.text()
    return [{"text": text}] if text else []


def _blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    if message.role is Role.TOOL:
        return [_tool_result(message, index)]
    if message.role is Role.ASSISTANT:
        return _assistant_blocks(message, index)
    return _content_blocks(message, index)


def _content_blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    """Text and images in their order; empty text is left out (Converse refuses blank text)."""
    blocks: list[JsonObject] = []
    for position, item in enumerate(message.content):
        if isinstance(item, TextContent):
            if item.text:
                blocks.append({"text": item.text})
        else:
            blocks.append(_image(item, f"messages[{index}].parts[{position}].image"))
    return blocks


def _image(image: ImageContent, field_path: str) -> JsonObject:
    if image.url:
        raise InvalidArgument.for_field(
            f"{field_path}.url", f"{PROVIDER} takes images as bytes, not by URL"
        )
    image_format = IMAGE_FORMATS.get(image.media_type)
    if image_format is None:
        accepted = ", ".join(sorted(IMAGE_FORMATS))
        raise InvalidArgument.for_field(f"{field_path}.media_type", f"must be one of {accepted}")
    encoded = base64.b64encode(image.data).decode("ascii")
    return {"image": {"format": image_format, "source": {"bytes": encoded}}}


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
    result: JsonObject = {
        "toolUseId": message.tool_call_id,
        "content": _content_blocks(message, index),
    }
    return {"toolResult": result}


def _assistant_blocks(message: ChatMessage, index: int) -> list[JsonObject]:
    _refuse_images(message, index)
    blocks: list[JsonObject] = []
    for block in message.reasoning:
        if block.redacted_data:
            blocks.append({"reasoningContent": {"redactedContent": block.redacted_data}})
        elif block.signature:
            text = {"text": block.text, "signature": block.signature}
            blocks.append({"reasoningContent": {"reasoningText": text}})
    blocks.extend(_content_blocks(message, index))
    for position, call in enumerate(message.tool_calls):
        where = f"messages[{index}].tool_calls[{position}]"
        if not call.id:
            raise InvalidArgument.for_field(f"{where}.id", "is required to send a call back")
        tool_use: JsonObject = {
            "toolUseId": call.id,
            "name": call.name,
            "input": arguments_object(call.arguments_json, f"{where}.arguments_json"),
        }
        blocks.append({"toolUse": tool_use})
    return blocks


def _tool_specs(tools: Iterable[ToolDefinition], cache_tools: bool) -> list[JsonObject]:
    written: list[JsonObject] = []
    for tool in tools:
        spec: JsonObject = {"name": tool.name}
        if tool.description:
            spec["description"] = tool.description
        schema = parameters_schema(tool)
        spec["inputSchema"] = {"json": schema}
        written.append({"toolSpec": spec})
    if cache_tools and written:
        written.append(dict(_CACHE_POINT))
    return written


def _tool_config(request: ChatRequest) -> JsonObject | None:
    choice = request.tool_choice
    mode = choice.mode if choice is not None else ToolChoiceMode.AUTO
    if mode is ToolChoiceMode.NONE:
        return None
    if not request.tools:
        if mode is not ToolChoiceMode.AUTO:
            raise InvalidArgument.for_field("tool_choice.mode", "requires tools")
        return None
    config: JsonObject = {"tools": _tool_specs(request.tools, request.cache_tools)}
    if mode is ToolChoiceMode.REQUIRED:
        config["toolChoice"] = {"any": {}}
    elif mode is ToolChoiceMode.TOOL:
        config["toolChoice"] = {"tool": {"name": _forced_tool(request)}}
    elif choice is not None:
        config["toolChoice"] = {"auto": {}}
    return config


def _forced_tool(request: ChatRequest) -> str:
    choice = request.tool_choice
    assert choice is not None
    if not choice.tool_name:
        raise InvalidArgument.for_field("tool_choice.tool_name", "is required to call a tool")
    if all(tool.name != choice.tool_name for tool in request.tools):
        raise InvalidArgument.for_field("tool_choice.tool_name", "names no tool of the request")
    return choice.tool_name


def _inference_config(parameters: ModelParameters) -> JsonObject:
    written: JsonObject = {}
    if parameters.max_tokens is not None:
        written["maxTokens"] = parameters.max_tokens
    if parameters.temperature is not None:
        written["temperature"] = parameters.temperature
    if parameters.top_p is not None:
        written["topP"] = parameters.top_p
    if parameters.stop:
        written["stopSequences"] = list(parameters.stop)
    return written


def takes_thinking_budget(model: str) -> bool:
    """Anthropic's Claude models, by id, inference-profile id (`us.anthropic.…`) or ARN."""
    return "anthropic." in model.lower()


def _additional_fields(request: ChatRequest) -> JsonObject:
    parameters = request.parameters
    budget = parameters.reasoning_budget_tokens
    if budget is None:
        return {}
    if not takes_thinking_budget(request.model):
        raise InvalidArgument.for_field(
            _BUDGET_FIELD, f"{PROVIDER} takes a thinking budget only for Anthropic Claude models"
        )
    if budget < MIN_THINKING_BUDGET:
        raise InvalidArgument.for_field(_BUDGET_FIELD, f"must be at least {MIN_THINKING_BUDGET}")
    if parameters.max_tokens is not None and budget >= parameters.max_tokens:
        raise InvalidArgument.for_field(_BUDGET_FIELD, "must be less than parameters.max_tokens")
    return {"thinking": {"type": "enabled", "budget_tokens": budget}}


_BLOCK_FORMAT = BlockFormat(
    system_blocks=lambda message, index: _marked(_system_blocks(message, index), message),
    blocks=lambda message, index: _marked(_blocks(message, index), message),
    is_tool_result=lambda block: "toolResult" in block,
)
