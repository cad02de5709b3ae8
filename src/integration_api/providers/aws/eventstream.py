"""AWS's binary event stream (`application/vnd.amazon.eventstream`), bounded and timed.

Each frame is `total_length | headers_length | prelude CRC | headers | payload | message CRC`;
botocore's `EventStreamBuffer` checks both CRCs and parses the headers, whatever way the frames
are cut into reads (one frame over several reads, several frames in one). What is held is
bounded here: the bytes of a frame not yet complete may not pass `max_sse_event_bytes` (the
bound of one streamed event, whatever its framing), and the time bounds of an answer and of the
gap between two frames are those of server-sent event streams (`sse.py`).

See: https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html (the framing),
botocore/eventstream.py.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError

from integration_api.errors import Unavailable
from integration_api.providers.http_client import ProviderClient, UpstreamAnswer, upstream_limits
from integration_api.providers.http_errors import ErrorClassifier
from integration_api.providers.sse import (
    PROVIDER_BAD_RESPONSE,
    UpstreamTimer,
    decode_within_bounds,
)
from integration_api.providers.transport import open_stream
from integration_api.upstream.limits import (
    SSE_EVENT_TOO_LARGE,
    UpstreamLimits,
    too_large,
)

EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    Attributes:
        message_type: `event`, `exception` (a modeled error) or `error` (an unmodeled one).
        name: the event type, the exception type or the error code.
        payload: the frame's body (JSON for Bedrock's events and exceptions).
        error_message: an unmodeled error's `:error-message` header (raw: sanitize before use).
    """

    message_type: str
    name: str
    payload: bytes
    error_message: str = ""


def _header(headers: Mapping[str, object], name: str) -> str:
    value = headers.get(name)
    return value if isinstance(value, str) else ""


def _frame_of(message: EventStreamMessage) -> Frame:
    headers = message.headers
    message_type = _header(headers, ":message-type") or "event"
    if message_type == "exception":
        name = _header(headers, ":exception-type")
    elif message_type == "error":
        name = _header(headers, ":error-code")
    else:
        name = _header(headers, ":event-type")
    return Frame(message_type, name, message.payload, _header(headers, ":error-message"))


def bad_frame(provider: str) -> Unavailable:
    return Unavailable(
        f"{provider} sent an event-stream frame that does not decode",
        reason=PROVIDER_BAD_RESPONSE,
        provider=provider,
    )


class BoundedFrameDecoder:
    """Bytes in, frames out, refusing a frame larger than the limit before it is complete."""

    __slots__ = ("_buffer", "_max_frame", "_pending", "_provider")

    def __init__(self, provider: str, max_frame_bytes: int) -> None:
        self._provider = provider
        self._max_frame = max_frame_bytes
        self._buffer = EventStreamBuffer()
        # Bytes received and not yet part of a returned frame.
        self._pending = 0

    @property
    def pending(self) -> int:
        return self._pending

    def flush(self) -> list[Frame]:
        """Nothing: bytes left at the body's end are a frame cut short (no end marker follows)."""
        return []

    def feed(self, piece: bytes) -> list[Frame]:
        self._buffer.add_data(piece)
        self._pending += len(piece)
        frames: list[Frame] = []
        try:
            for message in self._buffer:
                self._pending -= message.prelude.total_length
                frames.append(_frame_of(message))
        except ParserError:
            raise bad_frame(self._provider) from None
        if self._pending > self._max_frame:
            raise too_large(self._provider, "a frame", self._max_frame, SSE_EVENT_TOO_LARGE)
        return frames


@dataclass(frozen=True)
class FrameStream:
    """An open event stream: the answer's headers and its frames in order."""

    response: UpstreamAnswer
    frames: AsyncIterator[Frame]
    limits: UpstreamLimits


@asynccontextmanager
async def open_frame_stream(
    http: ProviderClient,
    url: str,
    *,
    provider: str,
    timer: UpstreamTimer,
    headers: Mapping[str, str],
    content: bytes,
    secrets: Sequence[str] = (),
    classify_error: ErrorClassifier | None = None,
) -> AsyncIterator[FrameStream]:
    """POST `content` (already signed) and hand out the answer's frames.

    Raises:
        ServiceError: the typed error for an error status or a transport failure, or
            `Unavailable` when the provider answers 2xx with something other than frames.
    """
    started = time.perf_counter()
    async with open_stream(
        http,
        "POST",
        url,
        provider=provider,
        headers={**headers, "Accept": EVENT_STREAM_CONTENT_TYPE},
        content=content,
        secrets=secrets,
        classify_error=classify_error,
    ) as response:
        timer.waited += time.perf_counter() - started
        if EVENT_STREAM_CONTENT_TYPE not in response.headers.get("content-type", ""):
            raise Unavailable(
                f"{provider} answered without an event stream",
                reason=PROVIDER_BAD_RESPONSE,
                provider=provider,
            )
        limits = upstream_limits(http)
        decoder = BoundedFrameDecoder(provider, limits.max_sse_event_bytes)
        frames = decode_within_bounds(response, decoder, provider, limits, timer, started)
        try:
            yield FrameStream(response, frames, limits)
        finally:
            await frames.aclose()
