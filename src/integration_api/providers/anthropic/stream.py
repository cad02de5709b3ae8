"""Reads an Anthropic Messages stream (named server-sent events) into normalized parts.

| on the wire                                         | normalized                               |
| --------------------------------------------------- | ---------------------------------------- |
| `message_start`: `message.model`, `message.id`,     | `Finish.model`; the id stands in for a   |
| `message.usage`                                     | missing `request-id` header; usage       |
| `text_delta`                                        | `TextDelta` at once                      |
| `thinking_delta` / `signature_delta`                | `ReasoningDelta(text)` / `(signature=…)` |
| a `redacted_thinking` block                         | `ReasoningDelta(redacted_data=…)`        |
| a `tool_use` block: `input_json_delta` fragments    | one `ToolCall` at its `content_block_stop`|
| (the first may be `""`; none at all means `{}`)     | numbered 0.. in order, apart by `index`  |
| `message_delta`: `stop_reason`, cumulative `usage`  | `Finish.reason` / `raw_reason`, `Usage`  |
| `message_stop`                                      | `Usage`, then `Finish`                   |
| `ping`, unknown events, unknown blocks and deltas   | ignored                                  |
| `error`                                             | typed error (see `errors.stream_error`)  |
| body ends without `message_stop`                    | Unavailable, STREAM_TRUNCATED            |

Usage: `input_tokens` counts every input token, so it is Anthropic's `input_tokens` plus
`cache_read_input_tokens` and `cache_creation_input_tokens`; `cached_input_tokens` is the cache
read, `cache_write_input_tokens` the cache creation. A later count replaces an earlier one.

See: https://docs.claude.com/en/api/messages-streaming.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from integration_api.errors import Unavailable
from integration_api.llm.contract import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamPart,
    TextDelta,
    ToolCall,
    Usage,
)
from integration_api.llm.tool_calls import ToolCallBudget, finished_tool_call
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.anthropic.errors import stream_error
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE
from integration_api.providers.wire_values import printable_id, request_id_from, token_count
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits

FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
}
_INPUT_COUNTS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
_COUNTS = (*_INPUT_COUNTS, "output_tokens")

JsonObject = dict[str, object]


def request_id_of(headers: Mapping[str, str]) -> str:
    """Anthropic's id for this request (`request-id`), printable and bounded."""
    return request_id_from(headers, ("request-id",))


@dataclass
class _ToolUse:
    id: str
    name: str
    pieces: list[str] = field(default_factory=list)
    # Input given whole in `content_block_start` (used when no fragment follows).
    start_input: object = None


class AnthropicStreamReader:
    """The state of one stream: open blocks, usage so far, and what `Finish` will say."""

    def __init__(
        self,
        provider: str,
        request_id: str,
        secrets: Sequence[str],
        limits: UpstreamLimits = DEFAULT_LIMITS,
    ) -> None:
        self._provider = provider
        self._request_id = request_id
        self._secrets = secrets
        self._budget = ToolCallBudget(provider, limits)
        self._model = ""
        self._raw_reason = ""
        self._counts: dict[str, int] = {}
        self._tool_uses: dict[int, _ToolUse] = {}
        self._calls_made = 0
        self.finished = False
        self._handlers: dict[str, Callable[[JsonObject], list[StreamPart]]] = {
            "content_block_delta": self._block_delta,
            "content_block_start": self._block_start,
            "content_block_stop": self._block_stop,
            "message_start": self._message_start,
            "message_delta": self._message_delta,
            "message_stop": self._message_stop,
        }

    def read(self, event: str, data: str) -> list[StreamPart]:
        """The parts one event carries; raises the typed error of an `error` event."""
        if event == "error":
            raise stream_error(self._provider, data, self._secrets)
        handler = self._handlers.get(event)
        if handler is None:
            if event != "message" or not data:
                return []  # ping, or an event type this reader does not know
            # Without an `event:` line the data's `type` names the event.
            payload = self._parse(data)
            kind = payload.get("type")
            if kind == "error":
                raise stream_error(self._provider, data, self._secrets)
            handler = self._handlers.get(kind) if isinstance(kind, str) else None
            return handler(payload) if handler is not None else []
        return handler(self._parse(data))

    def _message_start(self, payload: JsonObject) -> list[StreamPart]:
        message = payload.get("message")
        if not isinstance(message, dict):
            return []
        model = message.get("model")
        if isinstance(model, str):
            self._model = model
        message_id = message.get("id")
        if not self._request_id and isinstance(message_id, str):
            self._request_id = printable_id(message_id)
        self._note_usage(message.get("usage"))
        return []

    def _block_start(self, payload: JsonObject) -> list[StreamPart]:
        block = payload.get("content_block")
        index = _index_of(payload)
        if not isinstance(block, dict) or index < 0:
            return []
        kind = block.get("type")
        if kind == "tool_use":
            self._budget.open_call()
            call_id, name = block.get("id"), block.get("name")
            self._tool_uses[index] = _ToolUse(
                call_id if isinstance(call_id, str) else "",
                name if isinstance(name, str) else "",
                start_input=block.get("input"),
            )
            return []
        return _opening_parts(kind, block)

    def _block_delta(self, payload: JsonObject) -> list[StreamPart]:
        delta = payload.get("delta")
        if not isinstance(delta, dict):
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return [TextDelta(text)] if isinstance(text, str) and text else []
        if kind == "input_json_delta":
            pending = self._tool_uses.get(_index_of(payload))
            piece = delta.get("partial_json")
            if pending is not None and isinstance(piece, str) and piece:
                self._budget.add_arguments(piece)
                pending.pieces.append(piece)
            return []
        if kind == "thinking_delta":
            thinking = delta.get("thinking")
            return [ReasoningDelta(thinking)] if isinstance(thinking, str) and thinking else []
        if kind == "signature_delta":
            signature = delta.get("signature")
            if isinstance(signature, str) and signature:
                return [ReasoningDelta(signature=signature)]
        return []

    def _block_stop(self, payload: JsonObject) -> list[StreamPart]:
        pending = self._tool_uses.pop(_index_of(payload), None)
        return [self._tool_call(pending)] if pending is not None else []

    def _message_delta(self, payload: JsonObject) -> list[StreamPart]:
        delta = payload.get("delta")
        if isinstance(delta, dict):
            reason = delta.get("stop_reason")
            if isinstance(reason, str) and reason:
                self._raw_reason = reason
        self._note_usage(payload.get("usage"))
        return []

    def _message_stop(self, payload: JsonObject) -> list[StreamPart]:
        """The closing parts: calls whose block never closed, usage, `Finish`."""
        parts: list[StreamPart] = [
            self._tool_call(pending) for _index, pending in sorted(self._tool_uses.items())
        ]
        self._tool_uses.clear()
        parts.append(self._usage())
        parts.append(
            Finish(
                reason=FINISH_REASONS.get(self._raw_reason, FinishReason.OTHER),
                raw_reason=self._raw_reason,
                model=self._model,
                provider_request_id=self._request_id,
            )
        )
        self.finished = True
        return parts

    def _tool_call(self, pending: _ToolUse) -> ToolCall:
        position = self._calls_made
        self._calls_made += 1
        pieces = pending.pieces
        if not "".join(pieces).strip() and isinstance(pending.start_input, dict):
            # The input came whole in `content_block_start`, and no fragment followed.
            pieces = [json.dumps(pending.start_input)] if pending.start_input else []
        return finished_tool_call(
            self._provider, position, pending.id, pending.name, pieces, id_prefix="toolu_"
        )

    def _note_usage(self, usage: object) -> None:
        if not isinstance(usage, dict):
            return
        for name in _COUNTS:
            value = token_count(usage.get(name))
            if value is not None:
                self._counts[name] = value

    def _usage(self) -> Usage:
        counts = self._counts
        inputs = [counts[name] for name in _INPUT_COUNTS if name in counts]
        return Usage(
            input_tokens=sum(inputs) if inputs else None,
            output_tokens=counts.get("output_tokens"),
            cached_input_tokens=counts.get("cache_read_input_tokens"),
            cache_write_input_tokens=counts.get("cache_creation_input_tokens"),
        )

    def _parse(self, data: str) -> JsonObject:
        try:
            payload = loads_answer(data)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise Unavailable(
                f"{self._provider} sent a stream event that is not a JSON object",
                reason=PROVIDER_BAD_RESPONSE,
                provider=self._provider,
            )
        return payload


def _index_of(payload: JsonObject) -> int:
    """The block an event is about (-1 when it names none)."""
    index = payload.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else -1


def _opening_parts(kind: object, block: JsonObject) -> list[StreamPart]:
    """What a text, thinking or redacted block carries when it opens (usually nothing)."""
    if kind == "text":
        text = block.get("text")
        return [TextDelta(text)] if isinstance(text, str) and text else []
    if kind == "thinking":
        thinking = block.get("thinking")
        return [ReasoningDelta(thinking)] if isinstance(thinking, str) and thinking else []
    if kind == "redacted_thinking":
        data = block.get("data")
        return [ReasoningDelta(redacted_data=data)] if isinstance(data, str) and data else []
    return []
