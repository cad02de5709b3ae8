"""Server-sent event streams from providers: bounded, and with the time spent waiting measured.

The stream is opened through `transport.open_stream` (so errors map the same way everywhere).
Lines are split here, under the client's `UpstreamLimits` (a line, an event, the whole answer,
the wait for the next event), and interpreted by `sse_fields`. The `UpstreamTimer` adds up the
time spent waiting for the answer's headers and for each piece of its body: what is left of a
call's duration is the service's own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from integration_api.errors import Unavailable
from integration_api.providers.http_client import ProviderClient, UpstreamAnswer, upstream_limits
from integration_api.providers.http_errors import ErrorClassifier
from integration_api.providers.sse_fields import EventFieldDecoder, ServerSentEvent
from integration_api.providers.transport import open_stream
from integration_api.upstream.limits import (
    SSE_EVENT_TOO_LARGE,
    SSE_LINE_TOO_LARGE,
    UpstreamLimits,
    answer_too_slow,
    event_gap_too_long,
    too_large,
)
from integration_api.upstream.stream_errors import PROVIDER_BAD_RESPONSE as PROVIDER_BAD_RESPONSE
from integration_api.upstream.timer import UpstreamTimer as UpstreamTimer

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class EventStream:
    """An open event stream: the answer's headers and its events in order."""

    response: UpstreamAnswer
    events: AsyncIterator[ServerSentEvent]
    limits: UpstreamLimits


class _LineSplitter:
    """Cuts a byte stream into SSE lines (ended by CRLF, LF or CR), holding at most one line.

    Complete lines are returned as they are (their length is checked by the reader); the
    unfinished rest is kept, and refused as soon as it passes the limit.
    """

    __slots__ = ("_limit", "_partial", "_pending_cr", "_provider")

    def __init__(self, provider: str, limit: int) -> None:
        self._provider = provider
        self._limit = limit
        self._partial = bytearray()
        # A CR ending a piece may be the first half of a CRLF split across two pieces.
        self._pending_cr = False

    def feed(self, piece: bytes) -> list[bytes]:
        if self._pending_cr:
            piece = b"\r" + piece
            self._pending_cr = False
        if piece.endswith(b"\r"):
            self._pending_cr = True
            piece = piece[:-1]
        if b"\r" in piece:
            piece = piece.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = piece.split(b"\n")
        rest = lines.pop()
        if lines and self._partial:
            self._partial += lines[0]
            lines[0] = bytes(self._partial)
            self._partial.clear()
        if rest:
            self._partial += rest
            if len(self._partial) > self._limit:
                raise line_too_large(self._provider, self._limit)
        return lines

    def flush(self) -> list[bytes]:
        """The last line, when the body ended without a line break."""
        if not self._partial and not self._pending_cr:
            return []
        line = bytes(self._partial)
        self._partial.clear()
        self._pending_cr = False
        return [line]


def line_too_large(provider: str, limit: int) -> Unavailable:
    return too_large(provider, "an event-stream line", limit, SSE_LINE_TOO_LARGE)


class BoundedEventDecoder:
    """Bytes in, events out, refusing a line or an event over its limit."""

    __slots__ = ("_decoder", "_event_size", "_max_event", "_max_line", "_provider", "_splitter")

    def __init__(self, provider: str, limits: UpstreamLimits) -> None:
        self._provider = provider
        self._max_line = limits.max_sse_line_bytes
        self._max_event = limits.max_sse_event_bytes
        self._splitter = _LineSplitter(provider, self._max_line)
        self._decoder = EventFieldDecoder()
        self._event_size = 0

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        return self._decode(self._splitter.feed(piece))

    def flush(self) -> list[ServerSentEvent]:
        return self._decode(self._splitter.flush())

    def _decode(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            size = len(line)
            if size > self._max_line:
                raise line_too_large(self._provider, self._max_line)
            # A blank line ends an event; every other line counts towards it.
            self._event_size = self._event_size + size if size else 0
            if self._event_size > self._max_event:
                raise too_large(self._provider, "an event", self._max_event, SSE_EVENT_TOO_LARGE)
            event = self._decoder.decode(line.decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        return events


# The event `open_event_stream(json_answer=True)` makes of a whole JSON answer.
JSON_ANSWER = "json-answer"


class WholeAnswerDecoder:
    """A JSON answer where events were asked for: one event of the whole body, at its end."""

    __slots__ = ("_body", "_limit", "_provider")

    def __init__(self, provider: str, limit: int) -> None:
        self._provider = provider
        self._limit = limit
        self._body = bytearray()

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        self._body += piece
        if len(self._body) > self._limit:
            raise too_large(self._provider, "an event", self._limit, SSE_EVENT_TOO_LARGE)
        return []

    def flush(self) -> list[ServerSentEvent]:
        return [ServerSentEvent(JSON_ANSWER, self._body.decode("utf-8", "replace"))]


class PieceDecoder(Protocol[ItemT]):
    """Bytes in, whole items (events, frames) out; `flush` gives what the body's end completes."""

    def feed(self, piece: bytes) -> list[ItemT]: ...

    def flush(self) -> list[ItemT]: ...


async def decode_within_bounds(
    response: UpstreamAnswer,
    decoder: PieceDecoder[ItemT],
    provider: str,
    limits: UpstreamLimits,
    timer: UpstreamTimer,
    started: float,
) -> AsyncGenerator[ItemT, None]:
    """The items `decoder` makes of the body, ended with a typed error as soon as a bound is passed.

    Time bounds are checked on each piece that arrives, with no timer of their own: a silent
    upstream is ended by the client's read timeout, a chatty one (keep-alive comments, bytes that
    never complete a frame) by these checks. Only time spent waiting on the upstream counts
    towards the gap, not the caller's.
    """
    clock = time.perf_counter
    give_up_at = started + limits.max_answer_seconds
    max_gap = limits.max_event_gap_seconds
    waited_since_item = 0.0
    pieces = response.body
    try:
        while True:
            before, caller_time = clock(), timer.caller_time
            piece = await pieces.read()
            after = clock()
            waited_since_item += timer.upstream_wait(before, caller_time, after)
            if after > give_up_at:
                raise answer_too_slow(provider, limits.max_answer_seconds)
            if waited_since_item > max_gap:
                raise event_gap_too_long(provider, max_gap)
            for item in decoder.feed(piece) if piece else decoder.flush():
                waited_since_item = 0.0
                yield item
            if not piece:
                return
    finally:
        await pieces.aclose()


@asynccontextmanager
async def open_event_stream(
    http: ProviderClient,
    url: str,
    *,
    provider: str,
    timer: UpstreamTimer,
    headers: Mapping[str, str],
    json_body: object = None,
    params: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
    classify_error: ErrorClassifier | None = None,
    method: str = "POST",
    content: bytes | None = None,
    json_answer: bool = False,
) -> AsyncIterator[EventStream]:
    """POST `json_body` or `content` (or GET, with `method`) and hand out the answer's events;
    the connection is released on exit. With `json_answer`, a 2xx `application/json` answer
    (a provider that does not stream this request) is one `JSON_ANSWER` event of its body,
    under the same bounds as an event.

    Raises:
        ServiceError: the typed error for an error status or a transport failure, or
            `Unavailable` when the provider answers 2xx with something other than events.
    """
    started = time.perf_counter()
    async with open_stream(
        http,
        method,
        url,
        provider=provider,
        headers={**headers, "Accept": "text/event-stream"},
        params=params,
        json_body=json_body,
        content=content,
        secrets=secrets,
        classify_error=classify_error,
    ) as response:
        timer.waited += time.perf_counter() - started
        content_type = response.headers.get("content-type", "")
        limits = upstream_limits(http)
        decoder: PieceDecoder[ServerSentEvent]
        if "text/event-stream" in content_type:
            decoder = BoundedEventDecoder(provider, limits)
        elif json_answer and "application/json" in content_type:
            decoder = WholeAnswerDecoder(provider, limits.max_sse_event_bytes)
        else:
            raise Unavailable(
                f"{provider} answered without an event stream",
                reason=PROVIDER_BAD_RESPONSE,
                provider=provider,
            )
        events = decode_within_bounds(response, decoder, provider, limits, timer, started)
        try:
            yield EventStream(response, events, limits)
        finally:
            await events.aclose()
