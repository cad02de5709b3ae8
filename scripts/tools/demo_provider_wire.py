"""What the demo provider's three formats share: the fixed answer, keys, request ids and SSE.

Each provider refuses a request without its key header in its own error shape (OpenAI's
`{"error": {...}}`, Anthropic's `{"type": "error", ...}`, Deepgram's `err_code`/`err_msg`), so
what the service makes of a refusal is what it makes of the real provider's. A key that starts
with `rejected-` is refused the same way: a stored key the provider does not accept, on demand.
"""

from __future__ import annotations

import asyncio
import itertools
import json

from aiohttp import web

ANSWER = "Hello from the demo provider."
REJECTED_KEY_PREFIX = "rejected-"
# Seconds between the events of a streamed answer (`--pace`); none by default.
PACE = web.AppKey("pace", float)
_request_numbers = itertools.count(1)


def answer_pieces() -> list[str]:
    """The fixed answer as a model streams it: one piece per word, spaces kept."""
    words = ANSWER.split(" ")
    return [words[0], *(f" {word}" for word in words[1:])]


def next_request_id(prefix: str) -> str:
    return f"{prefix}{next(_request_numbers):06d}"


def estimated_tokens(text: str) -> int:
    """About four characters a token, as providers' own rule of thumb; never zero."""
    return max(1, (len(text) + 3) // 4)


def key_problem(key: str) -> str | None:
    """Why a presented key is refused, or None: any non-empty key is accepted."""
    if not key:
        return "no API key was sent"
    if key.startswith(REJECTED_KEY_PREFIX):
        return "the API key was rejected"
    return None


def scheme_value(header: str, scheme: str) -> str:
    """The credential of an `Authorization: <scheme> <value>` header, or '' for another scheme."""
    name, _, value = header.partition(" ")
    return value.strip() if name.lower() == scheme.lower() else ""


def sse(payload: object, event: str = "") -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return ((f"event: {event}\n" if event else "") + f"data: {data}\n\n").encode()


async def stream_events(
    request: web.Request, headers: dict[str, str], events: list[bytes]
) -> web.StreamResponse:
    """An event stream written one event at a time, as a provider sends its answer, paced as
    the server was told to (a slow answer is one a caller can watch, or stop a server in)."""
    pace = request.app.get(PACE, 0.0)
    response = web.StreamResponse(headers=headers)
    response.content_type = "text/event-stream"
    await response.prepare(request)
    for number, event in enumerate(events):
        if pace and number:
            await asyncio.sleep(pace)
        await response.write(event)
    await response.write_eof()
    return response


async def json_body(request: web.Request) -> dict[str, object] | None:
    """The request's JSON object, or None when the body is not one."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
