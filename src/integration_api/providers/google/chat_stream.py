"""Reads a Gemini `streamGenerateContent?alt=sse` stream (Gemini API and Vertex) into parts.

| on the wire                                       | normalized                                 |
| ------------------------------------------------- | ------------------------------------------ |
| `parts[].text`                                    | `TextDelta` at once                        |
| `parts[]` with `thought: true`                    | `ReasoningDelta` (`thoughtSignature` →     |
|                                                   | its signature)                             |
| `thoughtSignature` on an answer part              | `ReasoningDelta` with only the signature,  |
|                                                   | just before that part                      |
| `parts[].functionCall` (whole, args an object)    | `ToolCall` at once; its `id`, else         |
|                                                   | `call_<index>`                             |
| `usageMetadata` (cumulative, on many chunks)      | the last one, as `Usage` before `Finish`   |
| `finishReason`                                    | `Finish` once the body ends                |
| `promptFeedback.blockReason` (prompt refused)     | `Finish` CONTENT_FILTER                    |
| `{"error": …}` data                               | typed error, PROVIDER_STREAM_ERROR         |
| body ends without a `finishReason`                | Unavailable, STREAM_TRUNCATED              |

Gemini sends no end marker: the connection closes after the chunk that carries the
`finishReason`, so that reason is what tells a complete answer from a cut one. Unknown fields
and part kinds (code execution, inline images) are ignored.

See: https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from integration_api.errors import InvalidArgument, ServiceError, Unavailable
from integration_api.llm.contract import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamPart,
    TextDelta,
    ToolCall,
    Usage,
)
from integration_api.llm.tool_calls import ToolCallBudget
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.sanitize import sanitize_message
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE
from integration_api.providers.wire_values import printable_id, token_count
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR, truncated

# Refusals for what the answer (or the prompt) contained.
_FILTERED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    }
)
# Errors that say the request itself was wrong: retrying it cannot help.
_REQUEST_ERRORS = frozenset({"INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"})


def finish_reason_of(raw: str, made_calls: bool) -> FinishReason:
    """The unified reason for Gemini's `finishReason` (tool calls still finish with STOP)."""
    if raw == "STOP":
        return FinishReason.TOOL_CALLS if made_calls else FinishReason.STOP
    if raw == "MAX_TOKENS":
        return FinishReason.LENGTH
    if raw in _FILTERED:
        return FinishReason.CONTENT_FILTER
    return FinishReason.OTHER


def usage_of(reported: Mapping[str, object]) -> Usage:
    """`usageMetadata` as `Usage`: thoughts are output, tool-use prompts are input."""
    prompt, tool_prompt = (
        _count(reported, "promptTokenCount"),
        _count(reported, "toolUsePromptTokenCount"),
    )
    candidates, thoughts = (
        _count(reported, "candidatesTokenCount"),
        _count(reported, "thoughtsTokenCount"),
    )
    return Usage(
        input_tokens=_sum(prompt, tool_prompt),
        output_tokens=_sum(candidates, thoughts),
        cached_input_tokens=_count(reported, "cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def _count(reported: Mapping[str, object], name: str) -> int | None:
    return token_count(reported.get(name))


def _sum(first: int | None, second: int | None) -> int | None:
    if first is None and second is None:
        return None
    return (first or 0) + (second or 0)


def stream_error(
    provider: str, payload: Mapping[str, object], secrets: Sequence[str]
) -> ServiceError:
    """The typed error for `{"error": {"code", "message", "status"}}` inside a 200 stream."""
    error = payload.get("error")
    details = error if isinstance(error, Mapping) else {}
    message = details.get("message")
    status = details.get("status")
    text = f"{provider} reported an error in the stream"
    if isinstance(message, str) and message:
        text = f"{text}: {sanitize_message(message, secrets)}"
    typed: ServiceError
    if status in _REQUEST_ERRORS:
        typed = InvalidArgument(text, reason=PROVIDER_STREAM_ERROR, provider=provider)
    else:
        typed = Unavailable(text, reason=PROVIDER_STREAM_ERROR, provider=provider)
    if isinstance(status, str) and status:
        typed.metadata["provider_error_type"] = sanitize_message(status, secrets)[:80]
    return typed


class GeminiStreamReader:
    """The state of one stream: calls made so far, the last usage, how it finished."""

    def __init__(
        self, provider: str, secrets: Sequence[str], limits: UpstreamLimits = DEFAULT_LIMITS
    ) -> None:
        self._provider = provider
        self._secrets = secrets
        self._budget = ToolCallBudget(provider, limits)
        self._calls = 0
        # Cumulative on many chunks: kept as sent, read once at the end.
        self._usage: Mapping[str, object] | None = None
        self._model_version: object = None
        self._raw_reason: str | None = None
        self._blocked = False
        self._model = ""
        self._response_id = ""

    def read(self, data: str) -> list[StreamPart]:
        """The parts one `data:` payload carries."""
        chunk = self._parse(data)
        if "error" in chunk:
            raise stream_error(self._provider, chunk, self._secrets)
        model_version = chunk.get("modelVersion")
        if model_version != self._model_version and model_version:
            self._model_version = model_version
            self._model = printable_id(model_version)
        if not self._response_id:
            self._response_id = printable_id(chunk.get("responseId"))
        usage = chunk.get("usageMetadata")
        if isinstance(usage, Mapping):
            self._usage = usage
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, Mapping) and isinstance(feedback.get("blockReason"), str):
            self._raw_reason = str(feedback["blockReason"])
            self._blocked = True
        candidates = chunk.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            return []
        candidate = candidates[0]
        return self._read_candidate(candidate) if isinstance(candidate, Mapping) else []

    def _read_candidate(self, candidate: Mapping[str, object]) -> list[StreamPart]:
        parts: list[StreamPart] = []
        content = candidate.get("content")
        wire_parts = content.get("parts") if isinstance(content, Mapping) else None
        for part in wire_parts if isinstance(wire_parts, list) else ():
            if isinstance(part, Mapping):
                parts.extend(self._read_part(part))
        reason = candidate.get("finishReason")
        if isinstance(reason, str) and reason:
            self._raw_reason = reason
        return parts

    def _read_part(self, part: Mapping[str, object]) -> list[StreamPart]:
        signature = part.get("thoughtSignature")
        signature = signature if isinstance(signature, str) else ""
        text = part.get("text")
        if part.get("thought") is True:
            thought = text if isinstance(text, str) else ""
            return [ReasoningDelta(thought, signature)] if thought or signature else []
        parts: list[StreamPart] = [ReasoningDelta(signature=signature)] if signature else []
        if isinstance(text, str) and text:
            parts.append(TextDelta(text))
        call = part.get("functionCall")
        if isinstance(call, Mapping) and isinstance(call.get("name"), str) and call["name"]:
            parts.append(self._tool_call(call))
        return parts

    def _tool_call(self, call: Mapping[str, object]) -> ToolCall:
        self._budget.open_call()
        index = self._calls
        self._calls += 1
        arguments = call.get("args")
        arguments_json = json.dumps(arguments if isinstance(arguments, Mapping) else {})
        self._budget.add_arguments(arguments_json)
        call_id = printable_id(call.get("id")) or f"call_{index}"
        return ToolCall(
            index=index, id=call_id, name=str(call["name"]), arguments_json=arguments_json
        )

    def finish(self) -> list[StreamPart]:
        """The closing parts once the body has ended: `Usage` and `Finish`, or the truncation."""
        if self._raw_reason is None:
            raise truncated(self._provider)
        if self._blocked:
            reason = FinishReason.CONTENT_FILTER
        else:
            reason = finish_reason_of(self._raw_reason, self._calls > 0)
        return [
            usage_of(self._usage) if self._usage is not None else Usage(),
            Finish(
                reason=reason,
                raw_reason=self._raw_reason,
                model=self._model,
                provider_request_id=self._response_id,
            ),
        ]

    def _parse(self, data: str) -> dict[str, object]:
        try:
            chunk = loads_answer(data)
        except ValueError:
            chunk = None
        if isinstance(chunk, list) and len(chunk) == 1:
            chunk = chunk[0]  # an error may come as a one-element list, as in JSON-array mode
        if not isinstance(chunk, dict):
            raise Unavailable(
                f"{self._provider} sent a stream event that is not a JSON object",
                reason=PROVIDER_BAD_RESPONSE,
                provider=self._provider,
            )
        return chunk
