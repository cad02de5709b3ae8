"""Replays recorded provider answers on 127.0.0.1, framed exactly as each provider frames them.

A test scripts the answers (`play`): each request takes the next reply, the last one repeats.
A reply names a fixture file of the provider (`tests/fixtures/<provider>/<scenario>.sse` is a
stream body; `<scenario>.http` a whole HTTP response, status line and headers included) and
how to deliver it: a slow first byte, pauses between events, or a TCP reset after N events.
A `.sse` name stands for the provider's stream fixture whatever its framing: Bedrock's binary
event stream is kept as `<scenario>.frames` (see `aws_eventstream`) and sent as real frames.
A layout may check each request before answering it (Bedrock's checks its SigV4 signature).
Embedding and rerank requests are answered from what they ask (`EMBEDDINGS`), in the
provider's format.

The server counts the streams it has open and the callers that went away mid-answer, so a
test can prove a cancelled call closed its upstream request and nothing was left open.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from tests.fakes.aws_eventstream import read_frames
from tests.fakes.aws_sigv4 import BEDROCK_REPLAY_REGION, bedrock_replay_refusal
from tests.fakes.replay_embeddings import embedding_answer
from tests.fakes.replay_replicate import PREDICTION_PATHS, PredictionFlow
from tests.fakes.replay_rerank import rerank_answer
from tests.fakes.server import FakeServer, RecordedRequest

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
EMBEDDINGS = "embeddings"
_PAUSE_STEP_SECONDS = 0.01


@dataclass(frozen=True)
class Layout:
    """Where a provider's API lives on the replay server, and how it frames a stream."""

    provider: str
    fixture_dir: str
    base_path: str
    chat_path: str
    # '' for a provider without embeddings.
    embed_path: str
    stream_headers: dict[str, str] = field(default_factory=dict)
    # What ends an event on this provider's wire (Gemini and Vertex end lines with CRLF).
    event_separator: bytes = b"\n\n"
    # '' for a provider without reranking.
    rerank_path: str = ""
    # Stream fixtures in another framing: their extension and what cuts them into events.
    stream_extension: str = ".sse"
    read_stream: Callable[[Path], tuple[bytes, ...]] | None = None
    # The provider's refusal of a request it would not accept (None: answer it).
    check_request: Callable[[web.Request, bytes], web.Response | None] | None = None


LAYOUTS: dict[str, Layout] = {
    layout.provider: layout
    for layout in (
        Layout(
            "openai",
            "openai",
            "/v1",
            r"/v1/chat/completions",
            r"/v1/embeddings",
            {
                "Content-Type": "text/event-stream; charset=utf-8",
                "x-request-id": "req_0d6f8a2c4b1e4f3a9c7b5e2d1f0a3b4c",
                "openai-processing-ms": "131",
            },
        ),
        Layout(
            "azure-openai",
            "azure",
            "",
            r"/openai/deployments/[A-Za-z0-9._-]+/chat/completions",
            r"/openai/deployments/[A-Za-z0-9._-]+/embeddings",
            {
                "Content-Type": "text/event-stream; charset=utf-8",
                "apim-request-id": "5b1c3d2e-4f6a-4b8c-9d0e-1f2a3b4c5d6e",
                "x-ms-region": "Sweden Central",
            },
        ),
        Layout(
            "mistral",
            "mistral",
            "/v1",
            r"/v1/chat/completions",
            r"/v1/embeddings",
            {"Content-Type": "text/event-stream"},
        ),
        Layout(
            "huggingface",
            "huggingface",
            "",
            r"/v1/chat/completions",
            r"/hf-inference/models/[^?#]+/pipeline/feature-extraction",
            {
                "Content-Type": "text/event-stream",
                "x-request-id": "Root=1-6748f0a1-7d6c5b4a3f2e1d0c9b8a7f6e",
            },
        ),
        Layout(
            "openai-compatible",
            "openai_compatible",
            "/v1",
            r"/v1/chat/completions",
            r"/v1/embeddings",
            {"Content-Type": "text/event-stream; charset=utf-8"},
        ),
        Layout(
            "anthropic",
            "anthropic",
            "",
            r"/v1/messages",
            "",
            {
                "Content-Type": "text/event-stream; charset=utf-8",
                "request-id": "req_011CUK3xV9yXcTbnRPa2v8Zq",
                "anthropic-organization-id": "9c5f1a2e-7b3d-4e8f-a6c1-2d4e6f8a0b1c",
            },
        ),
        Layout(
            "gemini",
            "gemini",
            "",
            r"/v1beta/models/[^/:]+:streamGenerateContent",
            r"/v1beta/models/[^/:]+:batchEmbedContents",
            {"Content-Type": "text/event-stream", "server": "scaffolding on HTTPServer2"},
            event_separator=b"\r\n\r\n",
        ),
        Layout(
            "vertex-ai",
            "vertex",
            "",
            r"/v1/projects/[^/]+/locations/[^/]+/publishers/google/models/[^/:]+"
            r":streamGenerateContent",
            r"/v1/projects/[^/]+/locations/[^/]+/publishers/google/models/[^/:]+:predict",
            {"Content-Type": "text/event-stream", "server": "scaffolding on HTTPServer2"},
            event_separator=b"\r\n\r\n",
        ),
        Layout(
            "cohere",
            "cohere",
            "",
            r"/v2/chat",
            r"/v2/embed",
            {"Content-Type": "text/event-stream", "x-debug-trace-id": "8e3f1c2a9b7d4e6f"},
            rerank_path=r"/v2/rerank",
        ),
        Layout(
            "replicate",
            "replicate",
            "",
            r"/v1/(?:models/[^/]+/[^/]+/)?predictions",
            "",
            {"Content-Type": "text/event-stream", "Cache-Control": "no-store"},
        ),
        Layout(
            "voyageai",
            "voyage",
            "/v1",
            "",
            r"/v1/embeddings",
            rerank_path=r"/v1/rerank",
        ),
        Layout(
            "bedrock",
            "bedrock",
            "",
            r"/model/.+/converse-stream",
            r"/model/.+/invoke",
            {
                "Content-Type": "application/vnd.amazon.eventstream",
                "x-amzn-RequestId": "6f8e2d41-3b7c-4a59-9e0d-1c2b3a4d5e6f",
            },
            stream_extension=".frames",
            read_stream=read_frames,
            check_request=bedrock_replay_refusal,
            rerank_path=r"/rerank",
        ),
    )
}
BEDROCK_REGION = BEDROCK_REPLAY_REGION


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a fixture file of the provider, and how to deliver it."""

    fixture: str
    first_byte_delay: float = 0.0
    event_delay: float = 0.0
    reset_after_events: int | None = None


@dataclass(frozen=True)
class HttpFixture:
    status: int
    headers: dict[str, str]
    body: bytes


def fixture_path(layout: Layout, name: str) -> Path:
    if name.endswith(".sse"):
        name = name.removesuffix(".sse") + layout.stream_extension
    return FIXTURES_DIR / layout.fixture_dir / name


@cache
def read_http_fixture(path: Path) -> HttpFixture:
    """A literal HTTP response: status line, headers, blank line, body."""
    head, _, body = path.read_bytes().partition(b"\n\n")
    status_line, *header_lines = head.decode().splitlines()
    headers = dict(line.split(": ", 1) for line in header_lines)
    return HttpFixture(int(status_line.split()[1]), headers, body.rstrip(b"\n"))


@cache
def read_stream_events(path: Path, separator: bytes = b"\n\n") -> tuple[bytes, ...]:
    """A stream body cut into its events, each with its blank-line terminator."""
    body = path.read_bytes()
    return tuple(event + separator for event in body.split(separator) if event)


class ReplayServer:
    """A provider of one layout on 127.0.0.1, answering from fixtures."""

    def __init__(self, provider: str) -> None:
        self.layout = LAYOUTS[provider]
        self.fake = FakeServer()
        self.streams_open = 0
        self.streams_completed = 0
        self.disconnects = 0
        self.went_away = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._script: list[Reply] = [Reply(EMBEDDINGS)]
        if self.layout.chat_path:
            self.fake.route("POST", re.compile(self.layout.chat_path), self._answer)
        if self.layout.embed_path:
            self.fake.route("POST", re.compile(self.layout.embed_path), self._answer)
        if self.layout.rerank_path:
            self.fake.route("POST", re.compile(self.layout.rerank_path), self._answer_rerank)
        self.predictions = PredictionFlow(self) if provider == "replicate" else None

    @property
    def base_url(self) -> str:
        return self.fake.url + self.layout.base_path

    @property
    def requests(self) -> list[RecordedRequest]:
        """The calls made to the provider (for Replicate: the predictions created)."""
        if self.predictions is None:
            return self.fake.requests
        return [item for item in self.fake.requests if not PREDICTION_PATHS.fullmatch(item.path)]

    @property
    def prediction_requests(self) -> list[RecordedRequest]:
        """Replicate: the reads of a prediction's stream and state, and its cancellations."""
        return [item for item in self.fake.requests if PREDICTION_PATHS.fullmatch(item.path)]

    def play(self, *replies: Reply | str) -> None:
        """Answer the next requests with these replies, in order; the last one repeats."""
        self._script = [reply if isinstance(reply, Reply) else Reply(reply) for reply in replies]

    async def start(self) -> None:
        await self.fake.start()

    async def stop(self) -> None:
        await self.fake.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def wait_until_idle(self) -> None:
        """Return once every stream the server opened has ended (bound it with a timeout)."""
        await self._idle.wait()

    def _next_reply(self) -> Reply:
        if len(self._script) > 1:
            return self._script.pop(0)
        return self._script[0]

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        if self.layout.check_request is not None:
            refusal = self.layout.check_request(request, await request.read())
            if refusal is not None:
                return refusal
        reply = self._next_reply()
        if reply.fixture == EMBEDDINGS:
            return embedding_answer(self.layout.provider, await request.json())
        if self.predictions is not None:
            return await self.predictions.create(request, reply)
        return await self.play_reply(request, reply)

    async def _answer_rerank(self, request: web.Request) -> web.StreamResponse:
        """A ranking computed from the request unless a fixture is scripted."""
        if self.layout.check_request is not None:
            refusal = self.layout.check_request(request, await request.read())
            if refusal is not None:
                return refusal
        reply = self._next_reply()
        if reply.fixture == EMBEDDINGS:
            return rerank_answer(self.layout.provider, await request.json())
        return await self.play_reply(request, reply)

    def fixture_file(self, name: str) -> Path:
        return fixture_path(self.layout, name)

    async def stream_fixture(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        """Stream the reply's fixture as the provider frames its events."""
        path = fixture_path(self.layout, reply.fixture)
        if self.layout.read_stream is not None:
            return await self.stream_events(request, reply, self.layout.read_stream(path))
        return await self.stream_events(
            request, reply, read_stream_events(path, self.layout.event_separator)
        )

    async def play_reply(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        path = fixture_path(self.layout, reply.fixture)
        if path.suffix == ".http":
            answer = read_http_fixture(path)
            if not await self._pause(request, reply.first_byte_delay):
                return web.Response(status=499)
            return web.Response(status=answer.status, headers=answer.headers, body=answer.body)
        return await self.stream_fixture(request, reply)

    async def stream_events(
        self, request: web.Request, reply: Reply, events: tuple[bytes, ...]
    ) -> web.StreamResponse:
        self.streams_open += 1
        self._idle.clear()
        response = web.StreamResponse(status=200, headers=self.layout.stream_headers)
        try:
            if not await self._pause(request, reply.first_byte_delay):
                return self._gone(response)
            await response.prepare(request)
            for number, event in enumerate(events, start=1):
                await response.write(event)
                if reply.reset_after_events == number:
                    _reset(request)
                    return response
                if not await self._pause(request, reply.event_delay):
                    return self._gone(response)
            await response.write_eof()
            self.streams_completed += 1
            return response
        except ConnectionResetError:
            return self._gone(response)
        finally:
            self.streams_open -= 1
            if not self.streams_open:
                self._idle.set()

    def _gone(self, response: web.StreamResponse) -> web.StreamResponse:
        self.disconnects += 1
        self.went_away.set()
        return response

    async def _pause(self, request: web.Request, seconds: float) -> bool:
        """Sleep `seconds`; False as soon as the caller has closed the connection."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while True:
            transport = request.transport
            if transport is None or transport.is_closing():
                return False
            left = until - loop.time()
            if left <= 0:
                return True
            await asyncio.sleep(min(left, _PAUSE_STEP_SECONDS))


def _reset(request: web.Request) -> None:
    """Drop the connection with a TCP reset, as a crashing provider or proxy does."""
    transport = request.transport
    if transport is None:
        return
    connection: Any = transport.get_extra_info("socket")
    if connection is not None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
