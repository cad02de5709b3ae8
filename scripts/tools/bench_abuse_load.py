"""The abusers of `scripts/bench --abuse` (run by `bench_abuse_crowd.py`), the health probe
that watches them and the first tenant's timed chats.

Each abuser starts, runs until told to stop and keeps its own tally: idle health Watch streams
without a token, slow-header connections to the OAuth callback shim, a flood of callbacks
naming states nobody started, and a second tenant keeping itself at its call cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import grpc.aio

from scripts.tools.bench_load import RoundResult, ServiceClient

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
HEALTH_WATCH = "/grpc.health.v1.Health/Watch"
# An empty HealthCheckRequest: the whole server's status.
EMPTY_REQUEST = b""


def status_name(error: grpc.aio.AioRpcError) -> str:
    """The status code's name; grpc's own refusal past its concurrent RPC limit told apart."""
    if "Concurrent RPC limit" in (error.details() or ""):
        return "RESOURCE_EXHAUSTED (server RPC limit)"
    return error.code().name


def separate_channels(address: str, count: int) -> list[grpc.aio.Channel]:
    """Channels with a connection each (not one shared subchannel)."""
    options = [("grpc.use_local_subchannel_pool", 1)]
    return [grpc.aio.insecure_channel(address, options=options) for _ in range(count)]


@dataclass
class HealthProbe:
    """Health `Check` on a channel of its own every `interval` seconds, as a kubelet's probe."""

    channel: grpc.aio.Channel
    interval: float = 0.1
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)

    async def run(self, stop: asyncio.Event) -> None:
        check: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self.channel.unary_unary(
            HEALTH_CHECK
        )
        while not stop.is_set():
            started = time.perf_counter()
            try:
                await check(EMPTY_REQUEST, timeout=1.0)
            except grpc.aio.AioRpcError as error:
                self.failures[status_name(error)] += 1
            self.latencies.append(time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


@dataclass
class WatchCrowd:
    """`count` health Watch streams without a token, each read once and then left idle."""

    address: str
    count: int
    per_channel: int = 50
    opened: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    _channels: list[grpc.aio.Channel] = field(default_factory=list)
    _calls: list[grpc.aio.UnaryStreamCall[bytes, bytes]] = field(default_factory=list)

    async def open(self) -> None:
        self._channels = separate_channels(self.address, -(-self.count // self.per_channel))
        await asyncio.gather(*(self._one(index) for index in range(self.count)))

    async def _one(self, index: int) -> None:
        channel = self._channels[index // self.per_channel]
        watch: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = channel.unary_stream(HEALTH_WATCH)
        call: grpc.aio.UnaryStreamCall[bytes, bytes] = watch(EMPTY_REQUEST)
        self._calls.append(call)
        try:
            await asyncio.wait_for(call.read(), 10)
        except grpc.aio.AioRpcError as error:
            self.refused[status_name(error)] += 1
        except TimeoutError:
            self.refused["NO_ANSWER_IN_10_S"] += 1
        else:
            self.opened += 1

    def still_open(self) -> int:
        return sum(1 for call in self._calls if not call.done())

    async def close(self) -> None:
        for call in self._calls:
            call.cancel()
        for channel in self._channels:
            await channel.close()


@dataclass
class SlowHeaders:
    """Connections to the callback shim that send one more header line every `interval`."""

    port: int
    path: str
    count: int
    interval: float = 10.0
    opened: int = 0
    closed_after: list[float] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._one()) for _ in range(self.count)]
        await asyncio.sleep(0.5)

    async def _one(self) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return
        self.opened += 1
        started = time.perf_counter()
        try:
            writer.write(f"GET {self.path}?state=slow HTTP/1.1\r\nHost: bench\r\n".encode())
            while True:
                try:
                    # The server closing (or answering) ends this connection's abuse.
                    await asyncio.wait_for(reader.read(1024), self.interval)
                    break
                except TimeoutError:
                    writer.write(b"X-Slow: 1\r\n")
                    await writer.drain()
        except OSError:
            pass
        self.closed_after.append(time.perf_counter() - started)
        writer.close()

    def still_open(self) -> int:
        return self.opened - len(self.closed_after)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class CallbackFlood:
    """Callbacks naming states nobody started, `concurrency` at a time, at `rate` in all."""

    url: str
    concurrency: int = 8
    # Requests per second in all; 0: each caller sends the next as soon as it is answered.
    rate: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)

    async def run(self, stop: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(*(self._worker(session, stop) for _ in range(self.concurrency)))

    async def _worker(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        interval = self.concurrency / self.rate if self.rate else 0.0
        next_at = time.perf_counter()
        while not stop.is_set():
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            query = {"state": secrets.token_urlsafe(24), "code": "bench"}
            try:
                async with session.get(self.url, params=query, allow_redirects=False) as answer:
                    await answer.read()
                    self.statuses[str(answer.status)] += 1
            except (aiohttp.ClientError, TimeoutError) as error:
                self.statuses[type(error).__name__] += 1
                await asyncio.sleep(0.05)


@dataclass
class TenantAtCap:
    """A second tenant with more callers than its cap, each retrying at once when refused."""

    client: ServiceClient
    callers: int
    completed: int = 0
    refused: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._caller(stop) for _ in range(self.callers)))

    async def _caller(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.client.chat()
                self.completed += 1
            except grpc.aio.AioRpcError as error:
                if status_name(error) == "RESOURCE_EXHAUSTED":
                    self.refused += 1  # its own cap (TENANT_CONCURRENT_CALL_LIMIT)
                else:
                    self.failed[status_name(error)] += 1
                await asyncio.sleep(0.05)
            except RuntimeError:
                self.failed["NOT_OK"] += 1


async def timed_chats(
    client: ServiceClient, concurrency: int, seconds: float, expected_chunks: int
) -> tuple[RoundResult, Counter[str]]:
    """Chats `concurrency` at a time for `seconds`, arrivals spread over the first second; a
    call that fails or comes back short is an error, tallied by its status."""
    result, reasons = RoundResult(), Counter[str]()
    deadline = time.perf_counter() + seconds

    async def caller(index: int) -> None:
        await asyncio.sleep(index / concurrency)
        while time.perf_counter() < deadline:
            try:
                sample = await client.chat()
            except grpc.aio.AioRpcError as error:
                result.errors += 1
                reasons[status_name(error)] += 1
                await asyncio.sleep(0.05)
                continue
            except RuntimeError:
                result.errors += 1
                reasons["NOT_OK"] += 1
                continue
            if sample.chunks != expected_chunks:
                result.errors += 1
                reasons["SHORT"] += 1
                continue
            result.firsts.append(sample.first)
            result.totals.append(sample.total)

    started = time.perf_counter()
    await asyncio.gather(*(caller(index) for index in range(concurrency)))
    result.wall = time.perf_counter() - started
    return result, reasons
