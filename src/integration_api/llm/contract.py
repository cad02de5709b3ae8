"""The normalized chat contract: the request the service accepts and the parts it streams back.

Every provider adapter translates to and from these types and nothing else; they do no I/O.
The stream is a tagged union of five parts:

| part             | when                                                                   |
| ---------------- | ---------------------------------------------------------------------- |
| `TextDelta`      | as each text fragment arrives, never buffered                          |
| `ReasoningDelta` | as the model's reasoning arrives; a signature or redacted data closes  |
|                  | its block                                                              |
| `ToolCall`       | once per call, complete: id, name and arguments that parse as JSON     |
| `Usage`          | once, before `Finish`; a count the provider did not report is `None`   |
| `Finish`         | exactly once, last: unified and raw reason, model, request id, timing  |

A broken stream ends with a typed error instead of a `Finish`, never with a silent end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Role(Enum):
    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class TextContent:
    text: str


@dataclass(frozen=True, slots=True)
class ImageContent:
    """An image the provider fetches (`url`) or receives inline (`data` with its media type)."""

    url: str = ""
    data: bytes = field(default=b"", repr=False)
    media_type: str = ""


ContentItem = TextContent | ImageContent


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call: `arguments_json` always parses as JSON.

    `index` numbers the calls of one answer from 0, in the order the provider made them.
    """

    index: int
    id: str
    name: str
    arguments_json: str


@dataclass(frozen=True, slots=True)
class ReasoningBlock:
    """One whole block of a model's reasoning, sent back in history as it was received."""

    text: str = ""
    # The provider's signature over the block (Anthropic), required to send it back.
    signature: str = ""
    # Reasoning the provider returned encrypted (Anthropic `redacted_thinking`), opaque.
    redacted_data: str = ""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: tuple[ContentItem, ...] = ()
    # The calls an assistant made, when the history replays them.
    tool_calls: tuple[ToolCall, ...] = ()
    # For a tool message: the id of the call it answers.
    tool_call_id: str = ""
    # For an assistant message: the reasoning that came before its text and tool calls.
    reasoning: tuple[ReasoningBlock, ...] = ()
    # A prompt-cache breakpoint after this message (ignored where caching is automatic).
    cache_breakpoint: bool = False

    def text(self) -> str:
        """The message's text parts joined (images left out)."""
        return "".join(item.text for item in self.content if isinstance(item, TextContent))


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    name: str
    description: str = ""
    # JSON schema of the arguments; None means the tool takes none.
    parameters: Mapping[str, object] | None = None


class ToolChoiceMode(Enum):
    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class ToolChoice:
    mode: ToolChoiceMode
    # For `ToolChoiceMode.TOOL`: the tool that must be called.
    tool_name: str = ""


class ResponseFormatType(Enum):
    TEXT = "text"
    JSON_OBJECT = "json_object"
    JSON_SCHEMA = "json_schema"


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    type: ResponseFormatType
    schema_name: str = ""
    json_schema: Mapping[str, object] | None = None
    strict: bool = False


class ReasoningEffort(Enum):
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class ModelParameters:
    """Sampling and output controls; `None` (or empty) means not sent to the provider."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    response_format: ResponseFormat | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: ReasoningEffort | None = None
    reasoning_budget_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat call. `model` empty means the credential's default model."""

    credential_id: str
    model: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolDefinition, ...] = ()
    tool_choice: ToolChoice | None = None
    parameters: ModelParameters = ModelParameters()
    # A prompt-cache breakpoint after the tool list (ignored where caching is automatic).
    cache_tools: bool = False


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning; `signature` or `redacted_data` closes its block."""

    text: str = ""
    signature: str = ""
    redacted_data: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reported them; `None` is "not reported", never 0.

    `input_tokens` counts every input token, those read from and written to the prompt cache
    included (Anthropic reports the three apart: an adapter adds them up); `reasoning_tokens`
    are part of `output_tokens`.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_tokens: int | None = None


class FinishReason(Enum):
    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds, measured by the service for one call."""

    time_to_first_token: float
    # Time spent in the service itself: the total minus the time spent waiting on the provider.
    gateway_overhead: float
    total: float


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason
    # The provider's own finish reason, unchanged ('' when it gave none).
    raw_reason: str
    # The model the provider says it used.
    model: str
    provider_request_id: str
    # Filled in by the pipeline, which alone sees the whole call.
    timing: Timing | None = None


StreamPart = TextDelta | ReasoningDelta | ToolCall | Usage | Finish
