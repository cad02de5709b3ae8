"""Load for the benchmark: the same calls, directly against the upstream and through the service.

Both clients do the least work that still observes each chunk (the service's chunks stay raw
protobuf bytes, the upstream's stay raw SSE lines), so the difference between the two is the
service and not the client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import grpc.aio

# A ChatChunk whose first field is text_delta starts with this tag (field 1, length-delimited).
_TEXT_DELTA_TAG = b"\x0a"
# Every piece of text the fake upstream streams starts so; the service may carry several pieces
# that were already buffered in one message, so pieces are counted, not messages.
_TEXT_PIECE = b" word"


@dataclass(frozen=True)
class Sample:
    first: float
    total: float
    chunks: int


@dataclass
class RoundResult:
    firsts: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    chunks: int = 0
    errors: int = 0
    wall: float = 0.0

    @property
    def completed(self) -> int:
        return len(self.totals)

    def merge(self, other: RoundResult) -> None:
        self.firsts += other.firsts
        self.totals += other.totals
        self.chunks += other.chunks
        self.errors += other.errors
        self.wall += other.wall


Call = Callable[[], Awaitable[Sample]]


async def run_round(
    call: Call, concurrency: int, count: int, expected_chunks: int, spread_seconds: float = 0.0
) -> RoundResult:
    """`count` calls, `concurrency` at a time; a call that fails or comes back short is an error.

    With `spread_seconds`, worker i starts i/concurrency of it late, so the round's calls arrive
    spread out as independent callers' do (a stream's length apart: the steady state of
    `concurrency` open streams) instead of all in the same instant.
    """
    result = RoundResult()
    remaining = count

    async def worker(index: int) -> None:
        nonlocal remaining
        if spread_seconds:
            await asyncio.sleep(spread_seconds * index / concurrency)
        while remaining > 0:
            remaining -= 1
            try:
                sample = await call()
            except Exception:  # noqa: BLE001 - every failure of a call counts as an error
                result.errors += 1
                continue
            if sample.chunks != expected_chunks:
                result.errors += 1
                continue
            result.firsts.append(sample.first)
            result.totals.append(sample.total)
            result.chunks += sample.chunks

    started = time.perf_counter()
    await asyncio.gather(*(worker(index) for index in range(concurrency)))
    result.wall = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class DirectClient:
    """Calls the upstream itself over HTTP/1.1 keep-alive, as the service does."""

    session: aiohttp.ClientSession
    chat_url: str
    embed_url: str
    headers: dict[str, str]
    chat_body: bytes
    embed_body: bytes
    # How many pieces of text one line of the provider's stream carries (a binary stream's
    # "line", cut at newline bytes, may hold several frames).
    text_chunks_in: Callable[[bytes], int]

    async def chat(self) -> Sample:
        started = time.perf_counter()
        first = 0.0
        chunks = 0
        async with self.session.post(
            self.chat_url, data=self.chat_body, headers=self.headers
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"upstream answered {response.status}")
            async for line in response.content:
                found = self.text_chunks_in(line)
                if found:
                    chunks += found
                    if not first:
                        first = time.perf_counter() - started
        return Sample(first, time.perf_counter() - started, chunks)

    async def embed(self) -> Sample:
        started = time.perf_counter()
        async with self.session.post(
            self.embed_url, data=self.embed_body, headers=self.headers
        ) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"upstream answered {response.status}")
        elapsed = time.perf_counter() - started
        return Sample(elapsed, elapsed, 1)


@dataclass
class ServiceClient:
    """Calls the service over gRPC channels in turn, keeping messages as raw bytes. With several
    workers sharing the port each channel's one connection lands on one of them, so the load
    spreads over workers only through several channels."""

    channels: tuple[grpc.aio.Channel, ...]
    metadata: tuple[tuple[str, str], ...]
    chat_request: bytes
    embed_request: bytes
    _turn: int = 0

    @property
    def channel(self) -> grpc.aio.Channel:
        self._turn += 1
        return self.channels[self._turn % len(self.channels)]

    async def chat(self) -> Sample:
        method: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = self.channel.unary_stream(
            "/integration.v1.LlmService/Chat"
        )
        started = time.perf_counter()
        first = 0.0
        chunks = 0
        call = method(self.chat_request, metadata=self.metadata, timeout=60)
        async for message in call:
            if message[:1] == _TEXT_DELTA_TAG:
                chunks += message.count(_TEXT_PIECE)
                if not first:
                    first = time.perf_counter() - started
        if await call.code() != grpc.StatusCode.OK:
            raise RuntimeError("the call did not end OK")
        return Sample(first, time.perf_counter() - started, chunks)

    async def embed(self) -> Sample:
        method: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self.channel.unary_unary(
            "/integration.v1.EmbeddingService/Embed"
        )
        started = time.perf_counter()
        await method(self.embed_request, metadata=self.metadata, timeout=60)
        elapsed = time.perf_counter() - started
        return Sample(elapsed, elapsed, 1)
