"""Reads a Cohere v2 chat stream into normalized parts.

Each event's JSON names its type (`type`); the `event:` line is not needed.

| on the wire                                   | normalized                                     |
| --------------------------------------------- | ---------------------------------------------- |
| `message-start`: `id`                         | `Finish.provider_request_id`                   |
| `content-delta`: `content.text`               | `TextDelta` at once                            |
| `content-delta`: `content.thinking`           | `ReasoningDelta`                               |
| `tool-plan-delta`: `tool_plan`                | `ReasoningDelta`: the model's plan before its  |
|                                               | calls is reasoning, not answer text; it goes   |
|                                               | back as the assistant's `tool_plan`            |
| `tool-call-start` / `-delta` / `-end`         | one `ToolCall` at its end, apart by `index`    |
| `message-end`: `finish_reason`, `usage`       | `Usage`, then `Finish`                         |
| `message-end` with `ERROR` or `TIMEOUT`       | Unavailable, PROVIDER_STREAM_ERROR             |
| citations, `debug`, `[DONE]`, unknown events  | ignored                                        |
| body ends without `message-end`               | Unavailable, STREAM_TRUNCATED                  |

Usage: `tokens` (what the model read and wrote; `billed_units` when it is missing), and
`cached_tokens` as the cached input. Cohere names no model in its stream: `Finish.model` is
the model the request named.

See: https://docs.cohere.com/reference/chat-stream, https://docs.cohere.com/docs/streaming.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
from integration_api.providers.json_calls import count_at
from integration_api.providers.sanitize import sanitize_message
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE
from integration_api.providers.wire_values import printable_id
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

FINISH_REASONS: dict[str, FinishReason] = {
    "COMPLETE": FinishReason.STOP,
    "STOP_SEQUENCE": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "TOOL_CALL": FinishReason.TOOL_CALLS,
}
# Finishes that mean the answer broke off: the caller must not take it as complete.
FAILED_FINISHES = frozenset({"ERROR", "TIMEOUT"})

JsonObject = dict[str, object]


@dataclass
class _PendingCall:
    id: str
    name: str
    pieces: list[str] = field(default_factory=list)


def _message_delta(payload: JsonObject) -> JsonObject:
    delta = payload.get("delta")
    message = delta.get("message") if isinstance(delta, dict) else None
    return message if isinstance(message, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class CohereStreamReader:
    """The state of one stream: open tool calls and what `Finish` will say."""

    def __init__(
        self,
        provider: str,
        model: str,
        secrets: Sequence[str],
        limits: UpstreamLimits = DEFAULT_LIMITS,
    ) -> None:
        self._provider = provider
        self._model = model
        self._secrets = secrets
        self._budget = ToolCallBudget(provider, limits)
        self._request_id = ""
        self._calls: dict[int, _PendingCall] = {}
        self._calls_made = 0
        self.finished = False
        self._handlers: dict[str, Callable[[JsonObject], list[StreamPart]]] = {
            "message-start": self._message_start,
            "content-delta": self._content_delta,
            "tool-plan-delta": self._tool_plan_delta,
            "tool-call-start": self._tool_call_start,
            "tool-call-delta": self._tool_call_delta,
            "tool-call-end": self._tool_call_end,
            "message-end": self._message_end,
        }

    def read(self, data: str) -> list[StreamPart]:
        """The parts one event carries; raises the typed error of a failed finish."""
        if not data or data == "[DONE]":
            return []
        payload = self._parse(data)
        kind = payload.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        return handler(payload) if handler is not None else []

    def _message_start(self, payload: JsonObject) -> list[StreamPart]:
        message_id = payload.get("id")
        if isinstance(message_id, str):
            self._request_id = printable_id(message_id)
        return []

    def _content_delta(self, payload: JsonObject) -> list[StreamPart]:
        content = _message_delta(payload).get("content")
        if not isinstance(content, dict):
            return []
        text, thinking = _text(content.get("text")), _text(content.get("thinking"))
        if text:
            return [TextDelta(text)]
        return [ReasoningDelta(thinking)] if thinking else []

    def _tool_plan_delta(self, payload: JsonObject) -> list[StreamPart]:
        plan = _text(_message_delta(payload).get("tool_plan"))
        return [ReasoningDelta(plan)] if plan else []

    def _tool_call_start(self, payload: JsonObject) -> list[StreamPart]:
        call = _message_delta(payload).get("tool_calls")
        index = payload.get("index")
        if not isinstance(call, dict) or not isinstance(index, int):
            return []
        self._budget.open_call()
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        pending = _PendingCall(_text(call.get("id")), _text(function.get("name")))
        self._calls[index] = pending
        self._add_arguments(pending, function.get("arguments"))
        return []

    def _tool_call_delta(self, payload: JsonObject) -> list[StreamPart]:
        call = _message_delta(payload).get("tool_calls")
        index = payload.get("index")
        pending = self._calls.get(index) if isinstance(index, int) else None
        if pending is None or not isinstance(call, dict):
            return []
        function = call.get("function")
        if isinstance(function, dict):
            self._add_arguments(pending, function.get("arguments"))
        return []

    def _add_arguments(self, pending: _PendingCall, piece: object) -> None:
        if isinstance(piece, str) and piece:
            self._budget.add_arguments(piece)
            pending.pieces.append(piece)

    def _tool_call_end(self, payload: JsonObject) -> list[StreamPart]:
        index = payload.get("index")
        pending = self._calls.pop(index, None) if isinstance(index, int) else None
        return [self._tool_call(pending)] if pending is not None else []

    def _message_end(self, payload: JsonObject) -> list[StreamPart]:
        delta = payload.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        raw_reason = _text(delta.get("finish_reason"))
        if raw_reason in FAILED_FINISHES:
            raise self._failed(raw_reason, _text(delta.get("error")))
        parts: list[StreamPart] = [
            self._tool_call(pending) for _index, pending in sorted(self._calls.items())
        ]
        self._calls.clear()
        parts.append(_usage(delta.get("usage")))
        parts.append(
            Finish(
                reason=FINISH_REASONS.get(raw_reason, FinishReason.OTHER),
                raw_reason=raw_reason,
                model=self._model,
                provider_request_id=self._request_id,
            )
        )
        self.finished = True
        return parts

    def _failed(self, raw_reason: str, message: str) -> Unavailable:
        text = f"{self._provider} ended the answer with {raw_reason}"
        detail = sanitize_message(message, self._secrets)
        error = Unavailable(
            f"{text}: {detail}" if detail else text,
            reason=PROVIDER_STREAM_ERROR,
            provider=self._provider,
        )
        error.metadata["finish_reason"] = raw_reason
        return error

    def _tool_call(self, pending: _PendingCall) -> ToolCall:
        position = self._calls_made
        self._calls_made += 1
        return finished_tool_call(
            self._provider, position, pending.id, pending.name, pending.pieces
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


def _usage(usage: object) -> Usage:
    """Counted tokens, else billed ones; the cached input where reported."""
    source = "tokens" if isinstance(usage, dict) and isinstance(usage.get("tokens"), dict) else ""
    source = source or "billed_units"
    return Usage(
        input_tokens=count_at(usage, source, "input_tokens"),
        output_tokens=count_at(usage, source, "output_tokens"),
        cached_input_tokens=count_at(usage, "cached_tokens"),
    )
