"""The only code that knows both the generated chat messages and the chat contract."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from integration_api_proto.google.protobuf import Struct
from integration_api_proto.integration.v1 import (
    ChatChunk,
    ContentPart,
    Message,
    ModelParameters,
    ReasoningDelta,
    ReasoningEffort,
    ResponseFormat,
    ResponseFormatType,
    Role,
    TextDelta,
    Tool,
    ToolChoiceMode,
)
from integration_api_proto.integration.v1 import ChatRequest as ChatRequestMessage
from integration_api_proto.integration.v1 import Finish as FinishMessage
from integration_api_proto.integration.v1 import FinishReason as FinishReasonMessage
from integration_api_proto.integration.v1 import Timing as TimingMessage
from integration_api_proto.integration.v1 import ToolCall as ToolCallMessage
from integration_api_proto.integration.v1 import ToolChoice as ToolChoiceMessage
from integration_api_proto.integration.v1 import Usage as UsageMessage

from integration_api.enum_values import UNSPECIFIED, enum_problem
from integration_api.errors import InvalidArgument
from integration_api.llm import contract
from integration_api.llm.call_target import check_one_target
from integration_api.llm.wire import wire_class
from integration_api.request_caps import (
    MAX_MODEL_CHARACTERS,
    MAX_STOP_SEQUENCE_CHARACTERS,
    MAX_STOP_SEQUENCES,
    MAX_TOOL_NAME_CHARACTERS,
    MAX_TOOLS,
    cap_text,
    cap_texts,
)

_ROLES = {
    Role.SYSTEM: contract.Role.SYSTEM,
    Role.USER: contract.Role.USER,
    Role.ASSISTANT: contract.Role.ASSISTANT,
    Role.TOOL: contract.Role.TOOL,
}
_TOOL_CHOICES = {
    ToolChoiceMode.AUTO: contract.ToolChoiceMode.AUTO,
    ToolChoiceMode.NONE: contract.ToolChoiceMode.NONE,
    ToolChoiceMode.REQUIRED: contract.ToolChoiceMode.REQUIRED,
    ToolChoiceMode.TOOL: contract.ToolChoiceMode.TOOL,
}
_RESPONSE_FORMATS = {
    ResponseFormatType.TEXT: contract.ResponseFormatType.TEXT,
    ResponseFormatType.JSON_OBJECT: contract.ResponseFormatType.JSON_OBJECT,
    ResponseFormatType.JSON_SCHEMA: contract.ResponseFormatType.JSON_SCHEMA,
}
_REASONING_EFFORTS = {
    ReasoningEffort.MINIMAL: contract.ReasoningEffort.MINIMAL,
    ReasoningEffort.LOW: contract.ReasoningEffort.LOW,
    ReasoningEffort.MEDIUM: contract.ReasoningEffort.MEDIUM,
    ReasoningEffort.HIGH: contract.ReasoningEffort.HIGH,
}
_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "reasoning_tokens",
)
_FINISH_REASONS = {
    contract.FinishReason.STOP: FinishReasonMessage.STOP,
    contract.FinishReason.LENGTH: FinishReasonMessage.LENGTH,
    contract.FinishReason.TOOL_CALLS: FinishReasonMessage.TOOL_CALLS,
    contract.FinishReason.CONTENT_FILTER: FinishReasonMessage.CONTENT_FILTER,
    contract.FinishReason.OTHER: FinishReasonMessage.OTHER,
}


def chat_request_from_message(message: ChatRequestMessage) -> contract.ChatRequest:
    """The domain request; refuses what no provider could take (INVALID_ARGUMENT)."""
    check_one_target(message.credential_id, message.route_id)
    if not message.messages:
        raise InvalidArgument.for_field("messages", "must contain at least one message")
    if len(message.tools) > MAX_TOOLS:
        raise InvalidArgument.for_field("tools", f"at most {MAX_TOOLS} tools")
    return contract.ChatRequest(
        credential_id=message.credential_id,
        model=cap_text("model", message.model.strip(), MAX_MODEL_CHARACTERS),
        messages=tuple(_message(item, index) for index, item in enumerate(message.messages)),
        tools=tuple(_tool(tool, index) for index, tool in enumerate(message.tools)),
        tool_choice=_tool_choice(message.tool_choice),
        parameters=_parameters(message.parameters),
        cache_tools=message.cache_tools,
    )


def _message(message: Message, index: int) -> contract.ChatMessage:
    role = _ROLES.get(message.role)
    if role is None:
        raise InvalidArgument.for_field(f"messages[{index}].role", enum_problem(message.role))
    content: list[contract.ContentItem] = []
    if message.text:
        content.append(contract.TextContent(message.text))
    content.extend(_part(part, index, position) for position, part in enumerate(message.parts))
    calls = tuple(
        contract.ToolCall(call.index, call.id, call.name, call.arguments_json)
        for call in message.tool_calls
    )
    if message.reasoning and role is not contract.Role.ASSISTANT:
        raise InvalidArgument.for_field(
            f"messages[{index}].reasoning", "is accepted in assistant messages only"
        )
    reasoning = tuple(
        contract.ReasoningBlock(block.text, block.signature, block.redacted_data)
        for block in message.reasoning
    )
    return contract.ChatMessage(
        role,
        tuple(content),
        calls,
        message.tool_call_id,
        reasoning=reasoning,
        cache_breakpoint=message.cache_breakpoint,
    )


def _part(part: ContentPart, index: int, position: int) -> contract.ContentItem:
    if part.text is not None:
        return contract.TextContent(part.text)
    image = part.image
    field_path = f"messages[{index}].parts[{position}]"
    if image is None:
        raise InvalidArgument.for_field(field_path, "must hold text or an image")
    if bool(image.url) == bool(image.data):
        raise InvalidArgument.for_field(f"{field_path}.image", "needs exactly one of url and data")
    return contract.ImageContent(url=image.url, data=image.data, media_type=image.media_type)


def _tool(tool: Tool, index: int) -> contract.ToolDefinition:
    if not tool.name:
        raise InvalidArgument.for_field(f"tools[{index}].name", "is required")
    cap_text(f"tools[{index}].name", tool.name, MAX_TOOL_NAME_CHARACTERS)
    return contract.ToolDefinition(
        name=tool.name,
        description=tool.description,
        parameters=struct_to_dict(tool.parameters) if tool.parameters is not None else None,
    )


def _tool_choice(choice: ToolChoiceMessage | None) -> contract.ToolChoice | None:
    if choice is None:
        return None
    mode = _TOOL_CHOICES.get(choice.mode)
    if mode is None:
        if int(choice.mode) != UNSPECIFIED:
            raise InvalidArgument.for_field("tool_choice.mode", enum_problem(choice.mode))
        return None
    tool_name = cap_text("tool_choice.tool_name", choice.tool_name, MAX_TOOL_NAME_CHARACTERS)
    return contract.ToolChoice(mode=mode, tool_name=tool_name)


def _parameters(parameters: ModelParameters | None) -> contract.ModelParameters:
    if parameters is None:
        return contract.ModelParameters()
    if parameters.max_tokens is not None and parameters.max_tokens <= 0:
        raise InvalidArgument.for_field("parameters.max_tokens", "must be positive")
    budget = parameters.reasoning_budget_tokens
    if budget is not None and budget < 0:
        raise InvalidArgument.for_field(
            "parameters.reasoning_budget_tokens", "must not be negative"
        )
    return contract.ModelParameters(
        temperature=parameters.temperature,
        top_p=parameters.top_p,
        max_tokens=parameters.max_tokens,
        stop=tuple(
            cap_texts(
                "parameters.stop",
                parameters.stop,
                count=MAX_STOP_SEQUENCES,
                each=MAX_STOP_SEQUENCE_CHARACTERS,
            )
        ),
        seed=parameters.seed,
        response_format=_response_format(parameters.response_format),
        frequency_penalty=parameters.frequency_penalty,
        presence_penalty=parameters.presence_penalty,
        parallel_tool_calls=parameters.parallel_tool_calls,
        reasoning_effort=_reasoning_effort(parameters.reasoning_effort),
        reasoning_budget_tokens=budget,
    )


def _reasoning_effort(effort: ReasoningEffort) -> contract.ReasoningEffort | None:
    known = _REASONING_EFFORTS.get(effort)
    if known is None and int(effort) != 0:  # not UNSPECIFIED: a value this service does not know
        raise InvalidArgument.for_field("parameters.reasoning_effort", "is not a known value")
    return known


def _response_format(response_format: ResponseFormat | None) -> contract.ResponseFormat | None:
    if response_format is None:
        return None
    kind = _RESPONSE_FORMATS.get(response_format.type)
    if kind is None:
        if int(response_format.type) != UNSPECIFIED:
            raise InvalidArgument.for_field(
                "parameters.response_format.type", enum_problem(response_format.type)
            )
        return None
    schema = response_format.json_schema
    return contract.ResponseFormat(
        type=kind,
        schema_name=response_format.schema_name,
        json_schema=struct_to_dict(schema) if schema is not None else None,
        strict=response_format.strict,
    )


def struct_to_dict(struct: Struct) -> dict[str, object]:
    """A Struct as plain JSON values; whole numbers come back as ints (Struct has only doubles)."""
    converted = _whole_numbers(struct.to_dict())
    return converted if isinstance(converted, dict) else {}


def _whole_numbers(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(key): _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def _duration(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=seconds)


class EncodedChatChunk(ChatChunk):
    """A `ChatChunk` whose wire bytes the protobuf runtime wrote when it was made.

    Its fields hold the same part; only the encoding is not betterproto2's, which costs
    10-50 µs a chunk against about 1 µs (see `integration_api.llm.wire`).
    """

    encoded: bytes = b""

    def __bytes__(self) -> bytes:
        return self.encoded


def chunk_from_part(part: contract.StreamPart) -> ChatChunk:
    """One part of the normalized stream as the message the caller receives."""
    if isinstance(part, contract.TextDelta):
        chunk = EncodedChatChunk(text_delta=TextDelta(text=part.text))
    elif isinstance(part, contract.ReasoningDelta):
        chunk = EncodedChatChunk(
            reasoning_delta=ReasoningDelta(
                text=part.text, signature=part.signature, redacted_data=part.redacted_data
            )
        )
    elif isinstance(part, contract.ToolCall):
        chunk = EncodedChatChunk(
            tool_call=ToolCallMessage(
                index=part.index, id=part.id, name=part.name, arguments_json=part.arguments_json
            )
        )
    elif isinstance(part, contract.Usage):
        chunk = EncodedChatChunk(
            usage=UsageMessage(**{name: getattr(part, name) for name in _USAGE_FIELDS})
        )
    else:
        chunk = EncodedChatChunk(finish=_finish(part))
    chunk.encoded = _wire_bytes(part)
    return chunk


def _wire_bytes(part: contract.StreamPart) -> bytes:
    wire: Any = wire_class("integration.v1.ChatChunk")()
    if isinstance(part, contract.TextDelta):
        wire.text_delta.text = part.text
    elif isinstance(part, contract.ReasoningDelta):
        reasoning = wire.reasoning_delta
        reasoning.SetInParent()
        reasoning.text, reasoning.signature = part.text, part.signature
        reasoning.redacted_data = part.redacted_data
    elif isinstance(part, contract.ToolCall):
        call = wire.tool_call
        call.index, call.id, call.name = part.index, part.id, part.name
        call.arguments_json = part.arguments_json
    elif isinstance(part, contract.Usage):
        usage = wire.usage
        usage.SetInParent()
        for name in _USAGE_FIELDS:
            value = getattr(part, name)
            if value is not None:
                setattr(usage, name, value)
    else:
        _write_finish(wire.finish, part)
    return bytes(wire.SerializeToString())


def _write_finish(wire: Any, finish: contract.Finish) -> None:
    wire.reason = int(_FINISH_REASONS[finish.reason])
    wire.raw_reason = finish.raw_reason
    wire.model = finish.model
    wire.provider_request_id = finish.provider_request_id
    timing = finish.timing
    if timing is not None:
        wire.timing.time_to_first_token.FromNanoseconds(round(timing.time_to_first_token * 1e9))
        wire.timing.gateway_overhead.FromNanoseconds(round(timing.gateway_overhead * 1e9))
        wire.timing.total.FromNanoseconds(round(timing.total * 1e9))


def _finish(finish: contract.Finish) -> FinishMessage:
    timing = finish.timing
    return FinishMessage(
        reason=_FINISH_REASONS[finish.reason],
        raw_reason=finish.raw_reason,
        model=finish.model,
        provider_request_id=finish.provider_request_id,
        timing=TimingMessage(
            time_to_first_token=_duration(timing.time_to_first_token),
            gateway_overhead=_duration(timing.gateway_overhead),
            total=_duration(timing.total),
        )
        if timing is not None
        else None,
    )
