"""Writes a normalized chat request as a Gemini `generateContent` body (Gemini API and Vertex).

| normalized                         | Gemini                                                     |
| ---------------------------------- | ---------------------------------------------------------- |
| system messages                    | `systemInstruction.parts` (all of them, in order)          |
| user / assistant                   | `contents[]` with role `user` / `model`; turns of one role |
|                                    | in a row are merged, as Gemini wants them alternating      |
| images                             | `inlineData` (bytes) or `fileData` (URL)                   |
| assistant tool calls               | `functionCall` parts (`args` an object)                    |
| tool messages                      | `functionResponse` parts of a user turn, named after the   |
|                                    | call they answer; a non-object result is `{"output": …}`   |
| reasoning blocks in history        | `thought` parts with their `thoughtSignature`; a signature |
|                                    | without text goes back on the answer's first part          |
| tools                              | one `functionDeclarations` tool, `parametersJsonSchema`    |
| tool_choice auto/none/required/tool | `functionCallingConfig` AUTO/NONE/ANY/ANY, allowed name |
| sampling, stop, seed, penalties    | `generationConfig`                                         |
| response_format json_object/schema | `responseMimeType` application/json, `responseJsonSchema`  |
| reasoning_budget_tokens / _effort  | `thinkingConfig.thinkingBudget` / `thinkingLevel`, with    |
|                                    | `includeThoughts`                                          |

`parallel_tool_calls` has no Gemini equivalent and is refused naming the field. Prompt-cache
breakpoints are ignored: Gemini caches repeated prompt prefixes on its own. Redacted reasoning
(another provider's encrypted thinking) means nothing to Gemini and is left out.

See: https://ai.google.dev/api/generate-content, https://ai.google.dev/gemini-api/docs/thinking,
https://ai.google.dev/gemini-api/docs/function-calling.
"""

from __future__ import annotations

import base64
import json
import re

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
    ToolCall,
    ToolChoiceMode,
    ToolDefinition,
)
from integration_api.providers.tool_wire import arguments_object

JsonObject = dict[str, object]
# The ids the stream reader makes up when Gemini gives a call none: never sent back as ids.
SYNTHESIZED_CALL_ID = re.compile(r"call_\d+")
_TOOL_CHOICE_MODES = {
    ToolChoiceMode.AUTO: "AUTO",
    ToolChoiceMode.NONE: "NONE",
    ToolChoiceMode.REQUIRED: "ANY",
    ToolChoiceMode.TOOL: "ANY",
}


def generate_content_body(request: ChatRequest, provider: str) -> JsonObject:
    """The `streamGenerateContent` body for `request` (the model travels in the URL)."""
    if request.parameters.parallel_tool_calls is not None:
        raise InvalidArgument.for_field(
            "parameters.parallel_tool_calls", f"{provider} does not support this parameter"
        )
    body: JsonObject = {"contents": _contents(request.messages)}
    system = _system_parts(request.messages)
    if system:
        body["systemInstruction"] = {"parts": system}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(tool) for tool in request.tools]}]
    tool_config = _tool_config(request)
    if tool_config is not None:
        body["toolConfig"] = tool_config
    generation = _generation_config(request.parameters, provider)
    if generation:
        body["generationConfig"] = generation
    return body


def _system_parts(messages: tuple[ChatMessage, ...]) -> list[JsonObject]:
    parts: list[JsonObject] = []
    for index, message in enumerate(messages):
        if message.role is Role.SYSTEM:
            _refuse_images(message, index)
            parts.append({"text": message.text()})
    return parts


def _contents(messages: tuple[ChatMessage, ...]) -> list[JsonObject]:
    turns: list[tuple[str, list[JsonObject]]] = []
    for index, message in enumerate(messages):
        if message.role is Role.SYSTEM:
            continue
        if message.role is Role.TOOL:
            role, parts = "user", [_function_response(messages, index)]
        elif message.role is Role.ASSISTANT:
            role, parts = "model", _model_parts(message, index)
        else:
            role, parts = "user", _user_parts(message, index)
        if not parts:
            continue
        if turns and turns[-1][0] == role:
            # The results of parallel calls must share one turn, as must any run of one role.
            turns[-1][1].extend(parts)
        else:
            turns.append((role, parts))
    return [{"role": role, "parts": parts} for role, parts in turns]


def _user_parts(message: ChatMessage, index: int) -> list[JsonObject]:
    parts: list[JsonObject] = []
    for position, item in enumerate(message.content):
        if isinstance(item, TextContent):
            parts.append({"text": item.text})
        else:
            parts.append(_image_part(item, f"messages[{index}].parts[{position}].image"))
    return parts


def _image_part(image: ImageContent, field_path: str) -> JsonObject:
    if image.url:
        file_data: JsonObject = {"fileUri": image.url}
        if image.media_type:
            file_data["mimeType"] = image.media_type
        return {"fileData": file_data}
    if not image.media_type:
        raise InvalidArgument.for_field(f"{field_path}.media_type", "is required with data")
    encoded = base64.b64encode(image.data).decode("ascii")
    return {"inlineData": {"mimeType": image.media_type, "data": encoded}}


def _model_parts(message: ChatMessage, index: int) -> list[JsonObject]:
    _refuse_images(message, index)
    parts: list[JsonObject] = []
    loose_signatures: list[str] = []
    for block in message.reasoning:
        if block.text:
            thought: JsonObject = {"text": block.text, "thought": True}
            if block.signature:
                thought["thoughtSignature"] = block.signature
            parts.append(thought)
        elif block.signature:
            loose_signatures.append(block.signature)
    answer: list[JsonObject] = []
    text = message.text()
    if text:
        answer.append({"text": text})
    answer.extend(_function_call(call, index) for call in message.tool_calls)
    # Gemini signs the answer's first part (the first call, when there are calls).
    first = next((part for part in answer if "functionCall" in part), answer[0] if answer else None)
    if first is not None and loose_signatures:
        first["thoughtSignature"] = loose_signatures[0]
    return parts + answer


def _function_call(call: ToolCall, index: int) -> JsonObject:
    arguments = arguments_object(
        call.arguments_json, f"messages[{index}].tool_calls[{call.index}].arguments_json"
    )
    function_call: JsonObject = {"name": call.name, "args": arguments}
    if call.id and not SYNTHESIZED_CALL_ID.fullmatch(call.id):
        function_call["id"] = call.id
    return {"functionCall": function_call}


def _function_response(messages: tuple[ChatMessage, ...], index: int) -> JsonObject:
    message = messages[index]
    _refuse_images(message, index)
    field_path = f"messages[{index}].tool_call_id"
    if not message.tool_call_id:
        raise InvalidArgument.for_field(field_path, "is required for a tool message")
    name = _called_name(messages, index, message.tool_call_id)
    if name is None:
        raise InvalidArgument.for_field(
            field_path, "matches no tool call of an earlier assistant message"
        )
    response: JsonObject = {"name": name, "response": _as_object(message.text())}
    if not SYNTHESIZED_CALL_ID.fullmatch(message.tool_call_id):
        response["id"] = message.tool_call_id
    return {"functionResponse": response}


def _called_name(messages: tuple[ChatMessage, ...], index: int, call_id: str) -> str | None:
    """The name of the call `call_id` in the nearest assistant message before `index`."""
    for message in reversed(messages[:index]):
        for call in message.tool_calls:
            if call.id == call_id:
                return call.name
    return None


def _as_object(text: str) -> JsonObject:
    """Gemini takes a function's result as an object: a JSON object as it is, else wrapped."""
    try:
        value: object = json.loads(text)
    except ValueError:
        value = text
    return value if isinstance(value, dict) else {"output": value}


def _refuse_images(message: ChatMessage, index: int) -> None:
    for position, item in enumerate(message.content):
        if isinstance(item, ImageContent):
            raise InvalidArgument.for_field(
                f"messages[{index}].parts[{position}].image",
                f"images are accepted in user messages only, not in {message.role.value} messages",
            )


def _declaration(tool: ToolDefinition) -> JsonObject:
    declaration: JsonObject = {"name": tool.name}
    if tool.description:
        declaration["description"] = tool.description
    if tool.parameters is not None:
        # JSON Schema as the caller wrote it; `parameters` would take only an OpenAPI subset.
        declaration["parametersJsonSchema"] = dict(tool.parameters)
    return declaration


def _tool_config(request: ChatRequest) -> JsonObject | None:
    choice = request.tool_choice
    if choice is None:
        return None
    if choice.mode in (ToolChoiceMode.AUTO, ToolChoiceMode.NONE) and not request.tools:
        return None
    if not request.tools:
        raise InvalidArgument.for_field("tool_choice.mode", "requires tools")
    config: JsonObject = {"mode": _TOOL_CHOICE_MODES[choice.mode]}
    if choice.mode is ToolChoiceMode.TOOL:
        if not choice.tool_name:
            raise InvalidArgument.for_field("tool_choice.tool_name", "is required to call a tool")
        if all(tool.name != choice.tool_name for tool in request.tools):
            raise InvalidArgument.for_field("tool_choice.tool_name", "names no tool of the request")
        config["allowedFunctionNames"] = [choice.tool_name]
    return {"functionCallingConfig": config}


def _generation_config(parameters: ModelParameters, provider: str) -> JsonObject:
    written: JsonObject = {}
    simple = (
        ("temperature", parameters.temperature),
        ("topP", parameters.top_p),
        ("maxOutputTokens", parameters.max_tokens),
        ("seed", parameters.seed),
        ("frequencyPenalty", parameters.frequency_penalty),
        ("presencePenalty", parameters.presence_penalty),
    )
    for name, value in simple:
        if value is not None:
            written[name] = value
    if parameters.stop:
        written["stopSequences"] = list(parameters.stop)
    if parameters.response_format is not None:
        written.update(_response_format(parameters.response_format))
    thinking = _thinking_config(parameters, provider)
    if thinking:
        written["thinkingConfig"] = thinking
    return written


def _response_format(response_format: ResponseFormat) -> JsonObject:
    if response_format.type is ResponseFormatType.TEXT:
        return {"responseMimeType": "text/plain"}
    if response_format.type is ResponseFormatType.JSON_OBJECT:
        return {"responseMimeType": "application/json"}
    if response_format.json_schema is None:
        raise InvalidArgument.for_field(
            "parameters.response_format.json_schema",
            "is required for RESPONSE_FORMAT_TYPE_JSON_SCHEMA",
        )
    return {
        "responseMimeType": "application/json",
        "responseJsonSchema": dict(response_format.json_schema),
    }


def _thinking_config(parameters: ModelParameters, provider: str) -> JsonObject:
    budget, effort = parameters.reasoning_budget_tokens, parameters.reasoning_effort
    if budget is not None and effort is not None:
        # Gemini refuses a request that sets both a thinking budget and a thinking level.
        raise InvalidArgument.for_field(
            "parameters.reasoning_effort",
            f"{provider} takes either reasoning_effort or reasoning_budget_tokens, not both",
        )
    if budget is not None:
        return {"thinkingBudget": budget, "includeThoughts": True}
    if effort is not None:
        return {"thinkingLevel": effort.value, "includeThoughts": True}
    return {}
