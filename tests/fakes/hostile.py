"""An OpenAI-compatible upstream on 127.0.0.1 that answers as a hostile or broken one would.

Every answer is generated while it is written, from a few prebuilt blocks, so the server never
holds what it sends: a 64 MB line costs it one 64 kB block. `answer_with` picks the behaviour
for every following request (chat, embeddings and rerank alike); the server counts the answers it
started and those the caller walked away from.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Self

from aiohttp import web

from tests.fakes.server import FakeServer, Handler

BLOCK = 64 * 1024
_SSE = "text/event-stream"
_JSON = "application/json"


def _chunk(delta: dict[str, object]) -> bytes:
    body = {"object": "chat.completion.chunk", "model": "m", "choices": [{"delta": delta}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


TEXT_EVENT = _chunk({"content": "tick "})
KEEP_ALIVE = b": keep-alive\n\n"


@dataclass(frozen=True)
class Behaviour:
    """What to send: a status, a content type, the pieces in order, and a pause after each."""

    status: int
    content_type: str
    # Called once per request, so that every request (a retry too) gets the whole answer.
    pieces: Callable[[], Iterable[bytes]]
    pause_seconds: float = 0.0


def long_line(total_bytes: int) -> Behaviour:
    """One event-stream line that goes on for `total_bytes` without a line break."""
    block = b"x" * BLOCK
    return Behaviour(200, _SSE, lambda: [b"data: ", *[block] * (total_bytes // BLOCK)])


def endless_event(total_bytes: int) -> Behaviour:
    """Data lines of 1 kB each, never followed by the blank line that would end the event."""
    lines = (b"data: " + b"y" * 1018 + b"\n") * (BLOCK // 1024)
    return Behaviour(200, _SSE, lambda: [lines] * (total_bytes // len(lines)))


def large_body(total_bytes: int, status: int = 200) -> Behaviour:
    """A JSON answer of `total_bytes` (one string that never ends)."""
    block = b"z" * BLOCK
    return Behaviour(status, _JSON, lambda: [b'{"data": "', *[block] * (total_bytes // BLOCK)])


def trickled_body(pause_seconds: float) -> Behaviour:
    """A JSON answer that never ends, one byte at a time."""
    return Behaviour(200, _JSON, lambda: _forever(b'{"data": "', b"z"), pause_seconds)


def argument_fragments(count: int, size: int = 16) -> Behaviour:
    """One tool call whose arguments arrive in `count` fragments of `size` characters."""
    start = _chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f"}}]})
    fragment = _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "a" * size}}]})
    per_block = max(1, BLOCK // len(fragment))
    return Behaviour(200, _SSE, lambda: [start, *[fragment * per_block] * (count // per_block)])


def many_tool_calls(count: int) -> Behaviour:
    """`count` tool calls, each opened with a new index."""
    return Behaviour(200, _SSE, lambda: (_new_call(index) for index in range(count)))


def _new_call(index: int) -> bytes:
    call = {"index": index, "id": f"c{index}", "function": {"name": "f", "arguments": "{}"}}
    return _chunk({"tool_calls": [call]})


def keep_alive_forever(pause_seconds: float) -> Behaviour:
    """A stream of comments only: the connection looks alive, no event ever comes."""
    return Behaviour(200, _SSE, lambda: _forever(KEEP_ALIVE, KEEP_ALIVE), pause_seconds)


def text_forever(pause_seconds: float) -> Behaviour:
    """Text events at a steady pace that never reach a finish."""
    return Behaviour(200, _SSE, lambda: _forever(TEXT_EVENT, TEXT_EVENT), pause_seconds)


def embeddings(inputs: int, dimensions: int) -> Behaviour:
    """An embeddings answer of `inputs` vectors of `dimensions` values each."""
    vector = [0.5] * dimensions
    data = [{"index": index, "embedding": vector} for index in range(inputs)]
    body = json.dumps({"data": data, "model": "m"}).encode()
    return Behaviour(200, _JSON, lambda: [body])


def raw_chat(*chunks: str) -> Behaviour:
    """A chat stream of `chunks` written as given (JSON no encoder writes: `NaN`, a 400-digit
    number), then a finish and `[DONE]`, as a complete answer would end."""
    finish = _chunk({}).replace(b'"delta": {}', b'"delta": {}, "finish_reason": "stop"')
    events = [b"data: " + chunk.encode() + b"\n\n" for chunk in chunks]
    return Behaviour(200, _SSE, lambda: [*events, finish, b"data: [DONE]\n\n"])


def raw_json(body: str) -> Behaviour:
    """A JSON answer written as given."""
    return Behaviour(200, _JSON, lambda: [body.encode()])


def _forever(first: bytes, then: bytes) -> Iterator[bytes]:
    yield first
    while True:
        yield then


class HostileUpstream:
    """A FakeServer whose chat, embeddings and rerank routes send what `answer_with` says."""

    def __init__(self) -> None:
        self.fake = FakeServer()
        self.answers_started = 0
        self.walked_away = 0
        self._behaviour = text_forever(0.05)
        handler: Handler = self._answer
        self.fake.route("POST", "/v1/chat/completions", handler)
        self.fake.route("POST", "/v1/embeddings", handler)
        self.fake.route("POST", "/v1/rerank", handler)

    @property
    def base_url(self) -> str:
        return self.fake.url + "/v1"

    def answer_with(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour

    async def __aenter__(self) -> Self:
        await self.fake.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.fake.stop()

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        behaviour = self._behaviour
        self.answers_started += 1
        response = web.StreamResponse(
            status=behaviour.status, headers={"Content-Type": behaviour.content_type}
        )
        await response.prepare(request)
        try:
            for piece in behaviour.pieces():
                await response.write(piece)
                if behaviour.pause_seconds:
                    await asyncio.sleep(behaviour.pause_seconds)
            await response.write_eof()
        except ConnectionError:
            self.walked_away += 1
        return response
