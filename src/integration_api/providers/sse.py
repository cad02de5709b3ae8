"""Server-sent event streams from providers, with the time spent waiting on them measured.

The stream is opened through `transport.open_stream` (so errors map the same way everywhere) and
decoded by httpx-sse. The `UpstreamTimer` adds up the time spent waiting for the answer's
headers and for each piece of its body: what is left of a call's duration is the service's own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from httpx_sse import EventSource, ServerSentEvent

from integration_api.errors import Unavailable
from integration_api.providers.http_errors import ErrorClassifier
from integration_api.providers.transport import open_stream

PROVIDER_BAD_RESPONSE = "PROVIDER_BAD_RESPONSE"


class UpstreamTimer:
    """Seconds one call spent waiting on its provider (and sleeping before a retry)."""

    __slots__ = ("waited",)

    def __init__(self) -> None:
        self.waited = 0.0


class _TimedByteStream(httpx.AsyncByteStream):
    """The response body as the transport delivers it, timing each wait for the next piece."""

    def __init__(self, stream: httpx.AsyncByteStream, timer: UpstreamTimer) -> None:
        self._stream = stream
        self._timer = timer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pieces = self._stream.__aiter__()
        clock = time.perf_counter
        while True:
            started = clock()
            try:
                piece = await pieces.__anext__()
            except StopAsyncIteration:
                return
            finally:
                self._timer.waited += clock() - started
            yield piece

    async def aclose(self) -> None:
        await self._stream.aclose()


@dataclass(frozen=True)
class EventStream:
    """An open event stream: the answer's headers and its events in order."""

    response: httpx.Response
    events: AsyncIterator[ServerSentEvent]


@asynccontextmanager
async def open_event_stream(
    http: httpx.AsyncClient,
    url: str,
    *,
    provider: str,
    timer: UpstreamTimer,
    headers: Mapping[str, str],
    json_body: object,
    params: Mapping[str, str] | None = None,
    secrets: Sequence[str] = (),
    classify_error: ErrorClassifier | None = None,
) -> AsyncIterator[EventStream]:
    """POST `json_body` and hand out the answer's events; the connection is released on exit.

    Raises:
        ServiceError: the typed error for an error status or a transport failure, or
            `Unavailable` when the provider answers 2xx with something other than events.
    """
    started = time.perf_counter()
    async with open_stream(
        http,
        "POST",
        url,
        provider=provider,
        headers={**headers, "Accept": "text/event-stream"},
        params=params,
        json_body=json_body,
        secrets=secrets,
        classify_error=classify_error,
    ) as response:
        timer.waited += time.perf_counter() - started
        content_type = response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            raise Unavailable(
                f"{provider} answered without an event stream",
                reason=PROVIDER_BAD_RESPONSE,
                provider=provider,
            )
        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _TimedByteStream(response.stream, timer)
        events = EventSource(response).aiter_sse()
        try:
            yield EventStream(response, events)
        finally:
            await events.aclose()
