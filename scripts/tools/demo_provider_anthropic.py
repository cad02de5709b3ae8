"""The demo provider's Anthropic Messages API and model list.

A streamed message is framed as Anthropic frames it: `message_start` (with usage), one text
block (`content_block_start`, a `ping`, one `text_delta` per word of the fixed answer,
`content_block_stop`), `message_delta` with `end_turn` and the cumulative usage, then
`message_stop`. A request with `cache_control` breakpoints reports the text up to the last one
as read from the prompt cache, as a repeated request with the same prefix would.
"""

from __future__ import annotations

import json

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

MODELS = (("claude-sonnet-4-5", "Claude Sonnet 4.5"), ("claude-haiku-4-5", "Claude Haiku 4.5"))
_CREATED_AT = "2025-09-29T00:00:00Z"


def _error(status: int, kind: str, message: str) -> web.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return web.json_response(body, status=status, headers=_headers())


def _headers() -> dict[str, str]:
    return {"request-id": next_request_id("req_demo")}


def refusal(request: web.Request) -> web.Response | None:
    """Anthropic's answer to a request without its key or version header, or None."""
    key = request.headers.get("x-api-key") or scheme_value(
        request.headers.get("Authorization", ""), "Bearer"
    )
    problem = key_problem(key)
    if not key:
        return _error(401, "authentication_error", "x-api-key header is required")
    if problem is not None:
        return _error(401, "authentication_error", "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        return _error(400, "invalid_request_error", "anthropic-version: header is required")
    return None


async def models(request: web.Request) -> web.Response:
    refused = refusal(request)
    if refused is not None:
        return refused
    data = [
        {"type": "model", "id": model, "display_name": name, "created_at": _CREATED_AT}
        for model, name in MODELS
    ]
    listing = {
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"],
        "last_id": data[-1]["id"],
    }
    return web.json_response(listing, headers=_headers())


def _blocks(value: object) -> list[object]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _cached_prefix_tokens(body: dict[str, object]) -> int:
    """Tokens up to the last `cache_control` breakpoint, in Anthropic's order: tools, system,
    messages. Zero without a breakpoint."""
    parts: list[object] = [*_blocks(body.get("tools")), *_blocks(body.get("system"))]
    for message in _blocks(body.get("messages")):
        content = message.get("content") if isinstance(message, dict) else None
        parts.extend(_blocks(content))
    marked = [
        index
        for index, part in enumerate(parts)
        if isinstance(part, dict) and part.get("cache_control")
    ]
    if not marked:
        return 0
    return estimated_tokens(json.dumps(parts[: marked[-1] + 1]))


def _usage(body: dict[str, object]) -> dict[str, int]:
    cached = _cached_prefix_tokens(body)
    everything = estimated_tokens(json.dumps([body.get("system"), body.get("messages")]))
    return {
        "input_tokens": max(1, everything - cached),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def _message(model: str, usage: dict[str, int], output_tokens: int) -> dict[str, object]:
    return {
        "id": "msg_demo",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": output_tokens},
    }


def _named(payload: dict[str, object]) -> bytes:
    return sse(payload, str(payload["type"]))


def _stream(model: str, usage: dict[str, int]) -> list[bytes]:
    pieces = answer_pieces()
    text_block = {"type": "text", "text": ""}
    events: list[dict[str, object]] = [
        {"type": "message_start", "message": _message(model, usage, 1)},
        {"type": "content_block_start", "index": 0, "content_block": text_block},
        {"type": "ping"},
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }
            for piece in pieces
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {**usage, "output_tokens": len(pieces)},
        },
        {"type": "message_stop"},
    ]
    return [_named(event) for event in events]


def _request_problem(body: dict[str, object] | None) -> str | None:
    if body is None:
        return "the request body is not a JSON object"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required"
    return None


async def messages(request: web.Request) -> web.StreamResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    body = await json_body(request)
    problem = _request_problem(body)
    if body is None or problem is not None:
        return _error(400, "invalid_request_error", problem or "")
    model = str(body.get("model") or "claude-sonnet-4-5")
    usage = _usage(body)
    if body.get("stream") is True:
        return await stream_events(request, _headers(), _stream(model, usage))
    whole = _message(model, usage, len(answer_pieces()))
    whole.update(content=[{"type": "text", "text": ANSWER}], stop_reason="end_turn")
    return web.json_response(whole, headers=_headers())


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/messages", messages)
