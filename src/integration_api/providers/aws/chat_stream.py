"""Reads a Bedrock ConverseStream answer (event-stream frames) into normalized parts.

| on the wire (`:event-type`, payload)              | normalized                                 |
| ------------------------------------------------- | ------------------------------------------ |
| `contentBlockDelta` `delta.text`                  | `TextDelta` at once (text blocks open      |
|                                                   | without a `contentBlockStart`)             |
| `contentBlockStart` `start.toolUse`, then         | one `ToolCall` at its `contentBlockStop`,  |
| `delta.toolUse.input` pieces of JSON              | numbered 0.. in order, apart by index      |
| `delta.reasoningContent` text / signature /       | `ReasoningDelta(text)` / `(signature=…)` / |
| redactedContent (base64 in JSON)                  | `(redacted_data=…)`                        |
| `messageStop` `stopReason`                        | `Finish.reason` / `raw_reason`             |
| `metadata` `usage`                                | `Usage`, then `Finish`                     |
| `messageStart`, unknown events, the `p` padding   | ignored                                    |
| an exception or error frame                       | typed error (see `errors.stream_error`)    |
| body ends before `messageStop`                    | Unavailable, STREAM_TRUNCATED              |

`metadata` follows `messageStop`; a body that ends between the two still finished its answer,
with its usage not reported. Bedrock names no model in the stream: `Finish.model` is the model
id the request named.

Usage: Bedrock's `inputTokens` counts only the input tokens that were neither read from nor
written to the prompt cache (its `totalTokens` is `inputTokens + outputTokens +
cacheReadInputTokens + cacheWriteInputTokens`, as for Anthropic's own API), so `input_tokens`
here, every input token, is the sum of the three.

See: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html.
"""

from __future__ import annotations

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
from integration_api.providers.aws.errors import stream_error
from integration_api.providers.aws.eventstream import Frame
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE
from integration_api.providers.wire_values import request_id_from, token_count
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits
from integration_api.upstream.stream_errors import truncated

FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "guardrail_intervened": FinishReason.CONTENT_FILTER,
    "content_filtered": FinishReason.CONTENT_FILTER,
}
_INPUT_COUNTS = ("inputTokens", "cacheReadInputTokens", "cacheWriteInputTokens")
_COUNTS = (*_INPUT_COUNTS, "outputTokens")

JsonObject = dict[str, object]


def request_id_of(headers: Mapping[str, str]) -> str:
    """Bedrock's id for this request (`x-amzn-RequestId`), printable and bounded."""
    return request_id_from(headers, ("x-amzn-requestid",))


def _index_of(payload: JsonObject) -> int:
    index = payload.get("contentBlockIndex")
    return index if isinstance(index, int) and not isinstance(index, bool) else -1


@dataclass
class _ToolUse:
    id: str
    name: str
    pieces: list[str] = field(default_factory=list)


class BedrockStreamReader:
    """The state of one stream: open tool blocks, the stop reason, and what `Finish` will say."""

    def __init__(
        self,
        provider: str,
        model: str,
        request_id: str,
        secrets: Sequence[str],
        limits: UpstreamLimits = DEFAULT_LIMITS,
    ) -> None:
        self._provider = provider
        self._model = model
        self._request_id = request_id
        self._secrets = secrets
        self._budget = ToolCallBudget(provider, limits)
        self._tool_uses: dict[int, _ToolUse] = {}
        self._calls_made = 0
        self._raw_reason: str | None = None
        self.finished = False
        self._handlers: dict[str, Callable[[JsonObject], list[StreamPart]]] = {
            "contentBlockDelta": self._block_delta,
            "contentBlockStart": self._block_start,
            "contentBlockStop": self._block_stop,
            "messageStop": self._message_stop,
            "metadata": self._metadata,
        }

    def read(self, frame: Frame) -> list[StreamPart]:
        """The parts one frame carries; raises the typed error of an exception frame."""
        if frame.message_type != "event":
            raise stream_error(self._provider, frame, self._secrets)
        handler = self._handlers.get(frame.name)
        if handler is None:
            return []  # messageStart, or an event this reader does not know
        return handler(self._parse(frame.payload))

    def end(self) -> list[StreamPart]:
        """The closing parts when the body ended without `metadata` after `messageStop`."""
        if self._raw_reason is None:
            raise truncated(self._provider)
        return self._finish(Usage())

    def _block_start(self, payload: JsonObject) -> list[StreamPart]:
        start = payload.get("start")
        tool_use = start.get("toolUse") if isinstance(start, dict) else None
        index = _index_of(payload)
        if isinstance(tool_use, dict) and index >= 0:
            self._budget.open_call()
            call_id, name = tool_use.get("toolUseId"), tool_use.get("name")
            self._tool_uses[index] = _ToolUse(
                call_id if isinstance(call_id, str) else "", name if isinstance(name, str) else ""
            )
        return []

    def _block_delta(self, payload: JsonObject) -> list[StreamPart]:
        delta = payload.get("delta")
        if not isinstance(delta, dict):
            return []
        text = delta.get("text")
        if isinstance(text, str):
            return [TextDelta(text)] if text else []
        tool_use = delta.get("toolUse")
        if isinstance(tool_use, dict):
            pending = self._tool_uses.get(_index_of(payload))
            piece = tool_use.get("input")
            if pending is not None and isinstance(piece, str) and piece:
                self._budget.add_arguments(piece)
                pending.pieces.append(piece)
            return []
        reasoning = delta.get("reasoningContent")
        return _reasoning_parts(reasoning) if isinstance(reasoning, dict) else []

    def _block_stop(self, payload: JsonObject) -> list[StreamPart]:
        pending = self._tool_uses.pop(_index_of(payload), None)
        return [self._tool_call(pending)] if pending is not None else []

    def _message_stop(self, payload: JsonObject) -> list[StreamPart]:
        reason = payload.get("stopReason")
        self._raw_reason = reason if isinstance(reason, str) else ""
        # Calls whose block never closed are complete once the message is.
        parts: list[StreamPart] = [
            self._tool_call(pending) for _index, pending in sorted(self._tool_uses.items())
        ]
        self._tool_uses.clear()
        return parts

    def _metadata(self, payload: JsonObject) -> list[StreamPart]:
        if self._raw_reason is None:
            return []  # usage before the message ended: the end marker is still to come
        usage = payload.get("usage")
        return self._finish(_usage(usage) if isinstance(usage, dict) else Usage())

    def _finish(self, usage: Usage) -> list[StreamPart]:
        raw_reason = self._raw_reason or ""
        self.finished = True
        finish = Finish(
            reason=FINISH_REASONS.get(raw_reason, FinishReason.OTHER),
            raw_reason=raw_reason,
            model=self._model,
            provider_request_id=self._request_id,
        )
        return [usage, finish]

    def _tool_call(self, pending: _ToolUse) -> ToolCall:
        position = self._calls_made
        self._calls_made += 1
        return finished_tool_call(
            self._provider,
            position,
            pending.id,
            pending.name,
            pending.pieces,
            id_prefix="tooluse_",
            require_object=True,
        )

    def _parse(self, payload: bytes) -> JsonObject:
        try:
            parsed = loads_answer(payload)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise Unavailable(
                f"{self._provider} sent a stream event that is not a JSON object",
                reason=PROVIDER_BAD_RESPONSE,
                provider=self._provider,
            )
        return parsed


def _reasoning_parts(reasoning: JsonObject) -> list[StreamPart]:
    text, signature = reasoning.get("text"), reasoning.get("signature")
    redacted = reasoning.get("redactedContent")
    if isinstance(text, str) and text:
        return [ReasoningDelta(text)]
    if isinstance(signature, str) and signature:
        return [ReasoningDelta(signature=signature)]
    if isinstance(redacted, str) and redacted:
        return [ReasoningDelta(redacted_data=redacted)]
    return []


def _usage(usage: JsonObject) -> Usage:
    counts = {
        name: value for name in _COUNTS if (value := token_count(usage.get(name))) is not None
    }
    inputs = [counts[name] for name in _INPUT_COUNTS if name in counts]
    return Usage(
        input_tokens=sum(inputs) if inputs else None,
        output_tokens=counts.get("outputTokens"),
        cached_input_tokens=counts.get("cacheReadInputTokens"),
        cache_write_input_tokens=counts.get("cacheWriteInputTokens"),
    )
