"""An OpenAI-compatible provider on 127.0.0.1 that fails on command, for routes to fail over.

Each instance answers chat (streamed) and embeddings with text or vectors that name it, so a test
can tell which target produced an answer and that no answer mixes two. On command it: dies (its
listener closes and every request still waiting for an answer has its connection reset), answers
429 with OpenAI's rate-limit headers, answers 5xx, holds the first token back for a while, or cuts
its stream after the first token.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Literal, Self

from aiohttp import web

Mode = Literal[
    "ok",
    "rate_limited",
    "server_error",
    "bad_request",
    "unauthorized",
    "slow_first_token",
    "cut_after_first_token",
]
# The seconds a rate-limited answer asks the caller to wait.
RESET_SECONDS = 7


def _event(payload: object) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return f"data: {data}\n\n".encode()


def _chunk(model: str, delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": "chatcmpl-flaky",
        "object": "chat.completion.chunk",
        "created": 1755137921,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": None,
    }


@dataclass
class Behaviour:
    mode: Mode = "ok"
    # For slow_first_token: how long the first token is held back.
    delay_seconds: float = 0.0


class FlakyProvider:
    """One fake provider; `name` is in every answer it gives."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.behaviour = Behaviour()
        self.chat_requests = 0
        self.embed_requests = 0
        self.dead = False
        # Dies when this many chat requests have arrived (0: never on its own).
        self.die_at_request = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        """Where an OpenAI credential points."""
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def root_url(self) -> str:
        """Where a Cohere credential points (rerank is `/v2/rerank` under it)."""
        return f"http://127.0.0.1:{self._port}"

    def text_pieces(self) -> list[str]:
        return [f"from {self.name}", " and", " only", f" {self.name}."]

    def behave(self, mode: Mode = "ok", delay_seconds: float = 0.0) -> None:
        self.behaviour = Behaviour(mode, delay_seconds)

    async def kill(self) -> None:
        """Stop listening; every request that still arrives on an open connection is reset."""
        site, self._site = self._site, None
        self.dead = True
        if site is not None:
            await site.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_post("/v2/rerank", self._rerank)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await self._site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _refused(self, request: web.Request) -> web.StreamResponse | None:
        if self.dead:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        behaviour = self.behaviour
        if behaviour.mode == "rate_limited":
            return web.json_response(
                {"error": {"message": "Rate limit reached", "type": "requests"}},
                status=429,
                headers={
                    "retry-after": str(RESET_SECONDS),
                    "x-ratelimit-limit-requests": "60",
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{RESET_SECONDS}s",
                },
            )
        if behaviour.mode == "server_error":
            return web.json_response({"error": {"message": "overloaded"}}, status=503)
        if behaviour.mode == "bad_request":
            return web.json_response({"error": {"message": "messages: bad role"}}, status=400)
        if behaviour.mode == "unauthorized":
            return web.json_response({"error": {"message": "Incorrect API key"}}, status=401)
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.chat_requests += 1
        if self.die_at_request and self.chat_requests >= self.die_at_request:
            await self.kill()
        refused = await self._refused(request)
        if refused is not None:
            return refused
        model = str(body.get("model", ""))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_event(_chunk(model, {"role": "assistant", "content": ""})))
        behaviour = self.behaviour
        if behaviour.mode == "slow_first_token":
            await asyncio.sleep(behaviour.delay_seconds)
        pieces = self.text_pieces()
        await response.write(_event(_chunk(model, {"content": pieces[0]})))
        if behaviour.mode == "cut_after_first_token":
            await asyncio.sleep(0.05)
            assert request.transport is not None
            request.transport.abort()
            return response
        for piece in pieces[1:]:
            await response.write(_event(_chunk(model, {"content": piece})))
        await response.write(_event(_chunk(model, {}, "stop")))
        usage = {"prompt_tokens": 5, "completion_tokens": len(pieces), "total_tokens": 9}
        await response.write(_event({**_chunk(model, {}), "choices": [], "usage": usage}))
        await response.write(_event("[DONE]"))
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.embed_requests += 1
        refused = await self._refused(request)
        if refused is not None:
            return refused
        # Each provider's vectors hold its own marker value, so an answer shows where it came from.
        marker = float(sum(map(ord, self.name)))
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": index, "embedding": [marker, 0.5, 0.25]}
            for index, _ in enumerate(inputs)
        ]
        usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
        return web.json_response(
            {"object": "list", "data": data, "model": body.get("model", ""), "usage": usage}
        )

    async def _rerank(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        refused = await self._refused(request)
        if refused is not None:
            return refused
        # Cohere's answer; the scores name this provider (its marker over 1000).
        marker = sum(map(ord, self.name)) / 1000
        results = [
            {"index": index, "relevance_score": marker / (index + 1)}
            for index, _ in enumerate(body["documents"])
        ]
        return web.json_response(
            {
                "id": "rerank-flaky",
                "results": results,
                "meta": {"billed_units": {"search_units": 1}},
            }
        )
