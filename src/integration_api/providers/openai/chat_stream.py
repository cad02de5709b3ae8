"""Reads an OpenAI-style chat stream (`chat.completion.chunk` events) into normalized parts.

| on the wire                                               | normalized                         |
| --------------------------------------------------------- | ---------------------------------- |
| `delta.content` (a string, or Mistral's typed parts)      | `TextDelta` at once                |
| `delta.refusal`                                           | `TextDelta` (the model's words)    |
| `delta.reasoning_content` (vLLM, DeepSeek), `delta.reasoning` | `ReasoningDelta` at once       |
| (vLLM ≥ 0.10, Ollama), Mistral's `thinking` parts         |                                    |
| `delta.tool_calls` fragments, keyed by `index`            | `ToolCall`s when `finish_reason`   |
| `usage` (last chunk; Mistral: the finish chunk)           | `Usage`, just before `Finish`      |
| `finish_reason`                                           | `Finish.reason` and `raw_reason`   |
| `data: [DONE]`                                            | `Finish`                           |
| Azure `prompt_filter_results`, `content_filter_results`   | no text; filtered → CONTENT_FILTER |
| `{"error": …}` or `{"object": "error"}` data, an `error`   | typed error (see `stream_error`)   |
| event, Mistral's `finish_reason: "error"`                 |                                    |
| body ends without `[DONE]`                                | Unavailable, STREAM_TRUNCATED      |

See: https://platform.openai.com/docs/api-reference/chat-streaming,
https://learn.microsoft.com/azure/ai-foundry/openai/concepts/content-filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from integration_api.errors import InvalidArgument, ServiceError, Unavailable
from integration_api.llm.contract import (
    Finish,
    FinishReason,
    ReasoningDelta,
    StreamPart,
    TextDelta,
    Usage,
)
from integration_api.llm.tool_calls import ToolCallAccumulator
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.http_errors import provider_error_message, provider_error_type
from integration_api.providers.sanitize import sanitize_message
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE
from integration_api.providers.wire_values import printable_id, request_id_from, token_count
from integration_api.upstream.limits import DEFAULT_LIMITS, UpstreamLimits
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "eos_token": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "end_turn": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "model_length": FinishReason.LENGTH,
    "max_tokens": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}
# Error types that say the request itself was wrong: retrying it cannot help.
_REQUEST_ERROR_TYPES = frozenset({"invalid_request_error", "validation", "invalid_request"})
_REQUEST_ID_HEADERS = ("x-request-id", "apim-request-id", "request-id")


def request_id_of(headers: Mapping[str, str]) -> str:
    """The provider's id for this request, from the headers its family uses."""
    return request_id_from(headers, _REQUEST_ID_HEADERS)


def stream_error(provider: str, payload: object, secrets: Sequence[str]) -> ServiceError:
    """The typed error for an error the provider reported inside a 200 stream."""
    message = sanitize_message(provider_error_message(payload), secrets)
    error_type = provider_error_type(payload, {})
    if not error_type and isinstance(payload, dict) and isinstance(payload.get("error_type"), str):
        error_type = payload["error_type"]
    error_type = sanitize_message(error_type, secrets)[:80]
    text = f"{provider} reported an error in the stream"
    text = f"{text}: {message}" if message else text
    error: ServiceError
    if error_type in _REQUEST_ERROR_TYPES:
        error = InvalidArgument(text, reason=PROVIDER_STREAM_ERROR, provider=provider)
    else:
        error = Unavailable(text, reason=PROVIDER_STREAM_ERROR, provider=provider)
    if error_type:
        error.metadata["provider_error_type"] = error_type
    return error


def _usage(reported: Mapping[str, object]) -> Usage:
    return Usage(
        input_tokens=token_count(reported.get("prompt_tokens")),
        output_tokens=token_count(reported.get("completion_tokens")),
        cached_input_tokens=token_count(
            _detail(reported, "prompt_tokens_details", "cached_tokens")
        ),
        reasoning_tokens=token_count(
            _detail(reported, "completion_tokens_details", "reasoning_tokens")
        ),
    )


def _detail(reported: Mapping[str, object], group: str, name: str) -> object:
    details = reported.get(group)
    return details.get(name) if isinstance(details, Mapping) else None


def _text_of(content: object, kind: str = "text") -> str:
    """A string as it is, or the text of Mistral's typed parts of one `kind`."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    pieces: list[str] = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != kind:
            continue
        inner = part.get(kind)
        if isinstance(inner, str):
            pieces.append(inner)
        elif isinstance(inner, list):  # a thinking part holds text parts of its own
            pieces.append(_text_of(inner))
    return "".join(pieces)


def _reasoning_of(delta: Mapping[str, object]) -> str:
    for name in ("reasoning_content", "reasoning"):
        value = delta.get(name)
        if isinstance(value, str) and value:
            return value
    content = delta.get("content")
    return _text_of(content, "thinking") if isinstance(content, list) else ""


def _filtered(results: object) -> bool:
    if not isinstance(results, dict):
        return False
    return any(
        isinstance(entry, dict) and entry.get("filtered") is True for entry in results.values()
    )


class OpenAIStreamReader:
    """The state of one stream: what has been seen, and what `Finish` will say."""

    def __init__(
        self,
        provider: str,
        request_id: str,
        secrets: Sequence[str],
        limits: UpstreamLimits = DEFAULT_LIMITS,
    ) -> None:
        self._provider = provider
        self._secrets = secrets
        self._request_id = request_id
        self._tool_calls = ToolCallAccumulator(provider, limits)
        self._model = ""
        self._raw_reason = ""
        self._filtered = False
        self._usage: Usage | None = None

    def read(self, data: str) -> list[StreamPart]:
        """The parts one `data:` payload carries (not `[DONE]`)."""
        chunk = self._parse(data)
        # vLLM before 0.10 reported errors as a top-level `{"object": "error", "message": …}`.
        if chunk.get("error") or chunk.get("object") == "error":
            raise stream_error(self._provider, chunk, self._secrets)
        model = chunk.get("model")
        if model and isinstance(model, str):
            self._model = model
        chunk_id = chunk.get("id")
        if not self._request_id and chunk_id and isinstance(chunk_id, str):
            self._request_id = printable_id(chunk_id)
        usage = chunk.get("usage")
        if usage and isinstance(usage, dict):
            self._usage = _usage(usage)
        choices = chunk.get("choices")
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            return []
        return self._read_choice(choices[0])

    def _read_choice(self, choice: dict[str, object]) -> list[StreamPart]:
        parts: list[StreamPart] = []
        delta = choice.get("delta")
        if delta and isinstance(delta, dict):
            reasoning = _reasoning_of(delta)
            if reasoning:
                parts.append(ReasoningDelta(reasoning))
            text = _text_of(delta.get("content")) or _text_of(delta.get("refusal"))
            if text:
                parts.append(TextDelta(text))
            fragments = delta.get("tool_calls")
            if fragments and isinstance(fragments, list):
                for fragment in fragments:
                    if isinstance(fragment, dict):
                        self._tool_calls.add(fragment)
        if "content_filter_results" in choice and _filtered(choice["content_filter_results"]):
            self._filtered = True
        reason = choice.get("finish_reason")
        if reason and isinstance(reason, str):
            if reason == "error":
                raise stream_error(self._provider, {"error": "generation failed"}, ())
            self._raw_reason = reason
            parts.extend(self._tool_calls.complete())
        return parts

    def read_error_event(self, data: str) -> ServiceError:
        """The error an `event: error` carries (JSON, or plain text)."""
        try:
            payload: object = loads_answer(data)
        except ValueError:
            payload = {"error": data}
        return stream_error(self._provider, payload, self._secrets)

    def finish(self) -> list[StreamPart]:
        """The closing parts, once the provider marked the end: calls left, usage, `Finish`."""
        parts: list[StreamPart] = list(self._tool_calls.complete())
        parts.append(self._usage or Usage())
        if self._filtered:
            reason = FinishReason.CONTENT_FILTER
        else:
            reason = FINISH_REASONS.get(self._raw_reason, FinishReason.OTHER)
        parts.append(
            Finish(
                reason=reason,
                raw_reason=self._raw_reason,
                model=self._model,
                provider_request_id=self._request_id,
            )
        )
        return parts

    def _parse(self, data: str) -> dict[str, object]:
        try:
            chunk = loads_answer(data)
        except ValueError:
            chunk = None
        if not isinstance(chunk, dict):
            raise Unavailable(
                f"{self._provider} sent a stream event that is not a JSON object",
                reason=PROVIDER_BAD_RESPONSE,
                provider=self._provider,
            )
        return chunk
