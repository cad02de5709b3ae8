"""An OpenAI-compatible chat and embeddings server that fails on command, for the call gate.

`fail_with(status, headers)` makes every answer an error (a 429 with a reset header, a 503);
`ok_headers` adds headers to good answers (`x-ratelimit-remaining-requests: 0` …);
`behave()` restores good answers. Good answers report `usage_tokens` tokens. It counts the
requests that reached it, which is what a gate that refuses before the provider must keep low.
"""

from __future__ import annotations

import json
from typing import Self

from aiohttp import web

from tests.fakes.server import FakeServer


def _sse(body: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class GatedProvider:
    def __init__(self, usage_tokens: int = 10) -> None:
        self.fake = FakeServer()
        self.usage_tokens = usage_tokens
        self.requests = 0
        self.status = 200
        self.headers: dict[str, str] = {}
        self.ok_headers: dict[str, str] = {}
        self.fake.route("POST", "/v1/chat/completions", self._chat)
        self.fake.route("POST", "/v1/embeddings", self._embeddings)

    @property
    def base_url(self) -> str:
        return self.fake.url + "/v1"

    def fail_with(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = dict(headers or {})

    def behave(self) -> None:
        self.status = 200
        self.headers = {}
        self.ok_headers = {}

    async def __aenter__(self) -> Self:
        await self.fake.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.fake.stop()

    def _error(self) -> web.Response:
        body = {"error": {"message": "refused on command", "type": "test_error"}}
        return web.json_response(body, status=self.status, headers=self.headers)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.status != 200:
            return self._error()
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", **self.ok_headers}
        )
        await response.prepare(request)
        delta = {"role": "assistant", "content": "hello"}
        await response.write(_sse({"model": "m", "choices": [{"index": 0, "delta": delta}]}))
        done = {"index": 0, "delta": {}, "finish_reason": "stop"}
        await response.write(_sse({"model": "m", "choices": [done]}))
        usage = {
            "prompt_tokens": self.usage_tokens // 2,
            "completion_tokens": self.usage_tokens // 2,
        }
        usage["total_tokens"] = self.usage_tokens
        await response.write(_sse({"model": "m", "choices": [], "usage": usage}))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.status != 200:
            return self._error()
        inputs = (await request.json())["input"]
        count = len(inputs) if isinstance(inputs, list) else 1
        body = {
            "object": "list",
            "model": "m",
            "data": [
                {"object": "embedding", "index": i, "embedding": [0.1, 0.2]} for i in range(count)
            ],
            "usage": {"prompt_tokens": self.usage_tokens, "total_tokens": self.usage_tokens},
        }
        return web.json_response(body, headers=self.ok_headers)
