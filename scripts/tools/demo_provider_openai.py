"""The demo provider's OpenAI API: chat completions, embeddings and the model list.

Framed as OpenAI frames them: a streamed chat is data-only SSE (a role chunk, one chunk per
word of the fixed answer, a finish chunk, the usage chunk when `stream_options.include_usage`
asks for it, then `data: [DONE]`); embeddings are deterministic unit vectors derived from each
text, as floats or base64 little-endian float32 per `encoding_format`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct

from aiohttp import web

from scripts.tools.demo_provider_wire import (
    ANSWER,
    answer_pieces,
    estimated_tokens,
    json_body,
    key_problem,
    next_request_id,
    scheme_value,
    sse,
    stream_events,
)

MODELS = ("my-model", "gpt-4o-mini", "text-embedding-3-small")
DEFAULT_DIMENSIONS = 16
_CREATED = 1767225600
_MAX_DIMENSIONS = 4096


def _error(status: int, message: str, kind: str, code: str | None = None) -> web.Response:
    error = {"message": message, "type": kind, "param": None, "code": code}
    return web.json_response({"error": error}, status=status)


def refusal(request: web.Request) -> web.Response | None:
    """OpenAI's 401 for a missing or refused bearer key, or None."""
    key = scheme_value(request.headers.get("Authorization", ""), "Bearer")
    problem = key_problem(key)
    if problem is None:
        return None
    if not key:
        message = (
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        return _error(401, message, "invalid_request_error")
    return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")


def _headers() -> dict[str, str]:
    return {"x-request-id": next_request_id("req_demo"), "openai-processing-ms": "1"}


async def models(request: web.Request) -> web.Response:
    refused = refusal(request)
    if refused is not None:
        return refused
    data = [
        {"id": model, "object": "model", "created": _CREATED, "owned_by": "demo"}
        for model in MODELS
    ]
    return web.json_response({"object": "list", "data": data}, headers=_headers())


def _prompt_tokens(messages: list[object]) -> int:
    return estimated_tokens(json.dumps(messages))


def _chunk(model: str, delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-demo",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": model,
        "system_fingerprint": "fp_demo",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def _usage(prompt_tokens: int) -> dict[str, object]:
    completion = len(answer_pieces())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _chat_events(model: str, prompt_tokens: int, include_usage: bool) -> list[bytes]:
    chunks = [_chunk(model, {"role": "assistant", "content": "", "refusal": None})]
    chunks += [_chunk(model, {"content": piece}) for piece in answer_pieces()]
    chunks.append(_chunk(model, {}, "stop"))
    if include_usage:
        chunks.append({**_chunk(model, {}), "choices": [], "usage": _usage(prompt_tokens)})
    return [*(sse(chunk) for chunk in chunks), sse("[DONE]")]


def _completion(model: str, prompt_tokens: int) -> dict[str, object]:
    message = {"role": "assistant", "content": ANSWER, "refusal": None}
    return {
        "id": "chatcmpl-demo",
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "system_fingerprint": "fp_demo",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": _usage(prompt_tokens),
    }


async def chat_completions(request: web.Request) -> web.StreamResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    body = await json_body(request)
    messages = body.get("messages") if body else None
    if body is None or not isinstance(messages, list) or not messages:
        return _error(400, "'messages' is a required property", "invalid_request_error")
    model = str(body.get("model") or "my-model")
    prompt_tokens = _prompt_tokens(messages)
    if body.get("stream") is not True:
        return web.json_response(_completion(model, prompt_tokens), headers=_headers())
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    events = _chat_events(model, prompt_tokens, include_usage)
    return await stream_events(request, _headers(), events)


def embedding_of(text: str, dimensions: int) -> list[float]:
    """A unit vector that depends only on the text: equal texts embed equally."""
    digest = b""
    counter = 0
    while len(digest) < dimensions:
        digest += hashlib.sha256(f"{counter}:{text}".encode()).digest()
        counter += 1
    raw = [byte - 127.5 for byte in digest[:dimensions]]
    norm = math.sqrt(sum(value * value for value in raw)) or 1.0
    return [value / norm for value in raw]


def _encoded(vector: list[float], encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


def _inputs(body: dict[str, object]) -> list[str] | None:
    value = body.get("input")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(text, str) and text for text in value):
        return None
    return [str(text) for text in value]


async def embeddings(request: web.Request) -> web.Response:
    refused = refusal(request)
    if refused is not None:
        return refused
    body = await json_body(request) or {}
    texts = _inputs(body)
    if texts is None:
        return _error(
            400, "'input' must be a non-empty string or array of them", "invalid_request_error"
        )
    dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= _MAX_DIMENSIONS:
        return _error(400, f"{dimensions} is not a valid 'dimensions'", "invalid_request_error")
    encoding_format = str(body.get("encoding_format") or "float")
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": _encoded(embedding_of(text, dimensions), encoding_format),
        }
        for index, text in enumerate(texts)
    ]
    tokens = sum(estimated_tokens(text) for text in texts)
    answer = {
        "object": "list",
        "data": data,
        "model": str(body.get("model") or "my-model"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return web.json_response(answer, headers=_headers())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/embeddings", embeddings)
