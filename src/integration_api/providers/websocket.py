"""Provider WebSockets: aiohttp's client behind the same egress policy and bounds as HTTP.

Every socket names its provider and is refused before any connection unless its host is one
that provider's key may go to; host names resolve through the policy's `PolicyResolver`, so a
name that points somewhere refused reaches nothing. Keys travel only in handshake headers.
No exception text, URL or header ever reaches an error or a log: aiohttp's handshake errors
quote the URL (which may carry a query string) and the failed request's headers.
Frames larger than `max_frame_bytes` end the session with `UPSTREAM_FRAME_TOO_LARGE`; a
provider that owes an answer (something was sent since its last frame) and stays silent for
`max_gap_seconds` ends it with `UPSTREAM_EVENT_GAP_TOO_LONG`. A session that ends any other way
than by the provider's close (a cancel, a deadline, an error) sends the provider's end-of-input
message before the socket closes, so the provider stops at once and bills no further audio.
That message is the socket's own (given at `connect`), not left to the session's sending task,
which a cancel may stop at any await: the close writes it before its first await (an
uncompressed frame is written at once), so a cancellation landing while the session unwinds
cannot skip it, and a session that already ended its input (`send_end_of_input`, `abandon`)
does not send it twice.
A refused upgrade is read like an HTTP error answer: its body (at most `REFUSAL_BODY_BYTES`,
waited for at most `REFUSAL_BODY_SECONDS`) goes through the provider's HTTP error table, so
ElevenLabs' 401 `quota_exceeded` is spent credit, not a rejected key.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
import structlog

from integration_api.errors import ServiceError, Unavailable
from integration_api.providers.answer_json import frame_json
from integration_api.providers.egress import (
    EgressPolicy,
    EgressRefused,
    is_provider_host,
    url_host,
)
from integration_api.providers.egress_connect import PolicyResolver
from integration_api.providers.http_client import provider_tls_context
from integration_api.providers.http_errors import (
    ErrorClassifier,
    ErrorResponse,
    error_from_response,
    parse_body,
)
from integration_api.providers.sanitize import sanitize_message
from integration_api.providers.transport_failures import egress_refused, transport_error
from integration_api.upstream.limits import event_gap_too_long
from integration_api.upstream.rate_limits import note_answer
from integration_api.upstream.stream_errors import truncated

log = structlog.get_logger("integration_api.providers.websocket")

FRAME_TOO_LARGE = "UPSTREAM_FRAME_TOO_LARGE"
ABNORMAL_CLOSE = "UPSTREAM_ABNORMAL_CLOSE"
NORMAL_CLOSE = 1000
T = TypeVar("T")
_ABNORMAL = 1006
_MESSAGE_TOO_BIG = 1009
_MAX_REASON_LENGTH = 200
_REASON_CODE = re.compile(r"\b([A-Z]{2,8}-\d{4})\b")
# How long the end-of-input message of an abandoned session may take to go out.
_FAREWELL_SECONDS = 1.0
# How much of a refused upgrade's body is read, and for how long: enough for any error JSON.
REFUSAL_BODY_BYTES = 64 * 1024
REFUSAL_BODY_SECONDS = 2.0


@dataclass(frozen=True)
class SocketSettings:
    """Bounds of every provider socket (from the environment, see `config`)."""

    max_frame_bytes: int = 1024 * 1024
    connect_timeout_seconds: float = 10.0
    close_timeout_seconds: float = 5.0
    max_connections: int = 1024
    # The wait for a provider's next frame once something was sent to it.
    max_gap_seconds: float = 120.0


@dataclass(frozen=True)
class Text:
    data: str
    provider: str = ""

    def json(self) -> object:
        """The frame as JSON, or None when it is not JSON (see `frame_json`)."""
        return frame_json(self.data, self.provider)


@dataclass(frozen=True)
class Binary:
    data: bytes


@dataclass(frozen=True)
class Closed:
    """The socket ended: the provider's close code and reason (1006 when it just dropped)."""

    code: int
    reason: str = ""
    # A code-shaped token of the reason (`DATA-0000`), kept even when its text is not quoted.
    error_code: str = ""

    @property
    def normal(self) -> bool:
        return self.code == NORMAL_CLOSE


SocketMessage = Text | Binary | Closed


class SocketGone(Exception):
    """A send on a socket that is already closing; the receiving side reports why."""


@dataclass
class ProviderSocket:
    """One open provider WebSocket."""

    provider: str
    quote_upstream: bool
    secrets: tuple[str, ...]
    _socket: aiohttp.ClientWebSocketResponse
    response_headers: Mapping[str, str] = field(default_factory=dict)
    max_gap_seconds: float = 120.0
    # The provider's end-of-input message (JSON, or a bare text command), sent once.
    end_of_input: object = None
    _owed_since: float | None = None
    _input_ended: bool = False
    _peer_closed: bool = False

    async def send_text(self, data: str, *, keepalive: bool = False) -> None:
        """Send a text frame; unless it is a keep-alive, the provider now owes an answer."""
        try:
            await self._socket.send_str(data)
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            raise SocketGone() from None
        self._owe(keepalive)

    async def send_json(self, data: object, *, keepalive: bool = False) -> None:
        await self.send_text(json.dumps(data, separators=(",", ":")), keepalive=keepalive)

    async def send_bytes(self, data: bytes) -> None:
        try:
            await self._socket.send_bytes(data)
        except (aiohttp.ClientError, ConnectionError, RuntimeError):
            raise SocketGone() from None
        self._owe(False)

    async def send_end_of_input(self) -> None:
        """The provider's end-of-input message, once (its last results follow)."""
        if self._input_ended or self.end_of_input is None:
            return
        self._input_ended = True
        if isinstance(self.end_of_input, str):
            await self.send_text(self.end_of_input)
        else:
            await self.send_json(self.end_of_input)

    def abandon(self) -> None:
        """Close without the end-of-input message: nothing is owed (barge-in: nothing more is
        to be spoken; or every input was already ended by the session's own messages)."""
        self._input_ended = True

    def expect_more(self) -> None:
        """The provider owes a further frame: the rest of an answer it began (a timed twin)."""
        self._owe(False)

    def _owe(self, keepalive: bool) -> None:
        if not keepalive and self._owed_since is None:
            self._owed_since = time.monotonic()

    def gap_left(self) -> float | None:
        """Seconds the provider has left to send its next frame (None: it owes nothing)."""
        if self._owed_since is None:
            return None
        return self._owed_since + self.max_gap_seconds - time.monotonic()

    async def receive(self, timeout: float | None = None) -> SocketMessage:  # noqa: ASYNC109
        """The next frame, or `Closed`; raises `TimeoutError` after `timeout` seconds."""
        message = await self._receive(timeout)
        self._owed_since = None
        if isinstance(message, Closed):
            self._peer_closed = True
        return message

    async def _receive(self, timeout: float | None) -> SocketMessage:  # noqa: ASYNC109
        message = await self._socket.receive(timeout)
        if message.type is aiohttp.WSMsgType.TEXT:
            return Text(message.data, self.provider)
        if message.type is aiohttp.WSMsgType.BINARY:
            return Binary(message.data)
        if message.type is aiohttp.WSMsgType.CLOSE:
            raw = str(message.extra or "")
            found = _REASON_CODE.search(raw)
            code = int(message.data or _ABNORMAL)
            return Closed(code, self.sanitized(raw), found.group(1) if found else "")
        if message.type is aiohttp.WSMsgType.ERROR:
            if getattr(message.data, "code", None) == _MESSAGE_TOO_BIG:
                raise frame_too_large(self.provider)
            return Closed(_ABNORMAL)
        # CLOSING / CLOSED: the connection went away without a close frame.
        return Closed(self._socket.close_code or _ABNORMAL)

    def sanitized(self, text: str) -> str:
        """Provider text fit for an error message ('' from a host that is not its own)."""
        if not self.quote_upstream:
            return ""
        return sanitize_message(text, self.secrets)[:_MAX_REASON_LENGTH]

    async def close(self) -> None:
        """End the session now: the end-of-input message first unless the provider is done."""
        with suppress(aiohttp.ClientError, ConnectionError, RuntimeError, TimeoutError):
            if not (self._peer_closed or self._socket.closed):
                with suppress(SocketGone):
                    async with asyncio.timeout(_FAREWELL_SECONDS):
                        await self.send_end_of_input()
            await self._socket.close()


def frame_too_large(provider: str) -> Unavailable:
    return Unavailable(
        f"{provider} sent a WebSocket frame larger than the limit",
        reason=FRAME_TOO_LARGE,
        provider=provider,
    )


def abnormal_close(provider: str, closed: Closed) -> Unavailable:
    """A close that is not the provider's normal end (1006: the connection dropped)."""
    what = "dropped the connection" if closed.code == _ABNORMAL else "closed the session"
    suffix = f": {closed.reason}" if closed.reason else ""
    return Unavailable(
        f"{provider} {what} (WebSocket close {closed.code}){suffix}",
        reason=ABNORMAL_CLOSE,
        provider=provider,
        metadata={"provider_close_code": str(closed.code)},
    )


def closed_before_the_end(provider: str, closed: Closed) -> Unavailable:
    """The error for a socket that closed before the answer's end: an abnormal close as such,
    a normal one as a truncated answer."""
    return abnormal_close(provider, closed) if not closed.normal else truncated(provider)


class WebSocketClient:
    """The process-wide provider WebSocket client (close it on shutdown)."""

    def __init__(self, policy: EgressPolicy, settings: SocketSettings | None = None) -> None:
        self._policy = policy
        self.settings = settings or SocketSettings()
        self._session: aiohttp.ClientSession | None = None

    def prepare(self) -> None:
        """Make the session now, on the running loop, rather than in the first session."""
        self._client()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.settings.max_connections,
                ssl=provider_tls_context(),
                resolver=PolicyResolver(self._policy),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                trace_configs=[_refuse_redirects()],
                raise_for_status=_read_refusal,
            )
        return self._session

    @asynccontextmanager
    async def connect(
        self,
        url: str,
        *,
        provider: str,
        headers: Mapping[str, str],
        secrets: Sequence[str] = (),
        end_of_input: object = None,
        classify_error: ErrorClassifier | None = None,
    ) -> AsyncIterator[ProviderSocket]:
        """An open socket to `url` for `provider`; closed on exit whatever happened.

        `end_of_input` is the provider's end-of-input message: sent before the close when the
        session ends before the provider closed (a cancel, a deadline, an error).
        `classify_error` is the provider's claim on an HTTP error answer, applied to a refused
        upgrade as to its HTTP calls.
        """
        host = url_host(url)
        if host is None or self._policy.refusal_for_host(provider, host) is not None:
            raise egress_refused(provider)
        refusal = _Refusal(
            provider, tuple(secrets), is_provider_host(provider, host), classify_error
        )
        socket = await self._open(url, refusal, headers)
        wrapped = ProviderSocket(
            provider=provider,
            quote_upstream=refusal.quote_upstream,
            secrets=refusal.secrets,
            _socket=socket,
            response_headers=dict(socket._response.headers) if socket._response else {},
            max_gap_seconds=self.settings.max_gap_seconds,
            end_of_input=end_of_input,
        )
        # A provider may say in its upgrade's answer that the key's window is spent.
        note_answer(101, wrapped.response_headers)
        try:
            yield wrapped
        finally:
            await wrapped.close()

    async def _open(
        self, url: str, refusal: _Refusal, headers: Mapping[str, str]
    ) -> aiohttp.ClientWebSocketResponse:
        settings = self.settings
        provider = refusal.provider
        failure: ServiceError
        try:
            # Connecting means the TCP and TLS set-up and the upgrade's answer.
            async with asyncio.timeout(settings.connect_timeout_seconds):
                socket: aiohttp.ClientWebSocketResponse = await self._client().ws_connect(
                    url,
                    headers=dict(headers),
                    max_msg_size=settings.max_frame_bytes,
                    autoclose=False,
                    autoping=True,
                    compress=0,
                    timeout=aiohttp.ClientWSTimeout(ws_close=settings.close_timeout_seconds),
                )
                return socket
        except UpgradeRefused as refused:
            failure = refusal.error(refused.status, refused.headers, refused.body)
        except aiohttp.WSServerHandshakeError as error:
            # Its text quotes the URL and its headers the request's: only the status is used.
            failure = refusal.error(error.status, error.headers or {}, b"")
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            failure = transport_error(error, provider, url)
        raise failure

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _refuse_redirects() -> aiohttp.TraceConfig:
    """aiohttp follows an upgrade's redirect on its own; a redirect would carry the key away."""

    async def refuse(*_: object) -> None:
        raise EgressRefused()

    config = aiohttp.TraceConfig()
    config.on_request_redirect.append(refuse)
    return config


class UpgradeRefused(Exception):
    """The upgrade's answer was not 101: its status, headers and (bounded) body."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body


@dataclass(frozen=True)
class _Refusal:
    """How one socket's refused upgrade is read: its provider's HTTP error table."""

    provider: str
    secrets: tuple[str, ...]
    quote_upstream: bool
    classify: ErrorClassifier | None

    def error(self, status: int, headers: Mapping[str, str], body: bytes) -> ServiceError:
        if status == 101:
            return Unavailable(
                f"{self.provider} answered the upgrade incorrectly", provider=self.provider
            )
        response = ErrorResponse(
            provider=self.provider,
            status_code=status,
            headers={name.lower(): value for name, value in headers.items()},
            body=parse_body(body),
            secrets=self.secrets,
            quote_upstream=self.quote_upstream,
        )
        return error_from_response(response, self.classify)


async def _read_refusal(response: aiohttp.ClientResponse) -> None:
    """aiohttp closes a refused upgrade's answer unread: read its body first, within bounds."""
    if response.status == 101:
        return
    body = bytearray()
    with suppress(aiohttp.ClientError, OSError, TimeoutError):
        async with asyncio.timeout(REFUSAL_BODY_SECONDS):
            while len(body) < REFUSAL_BODY_BYTES:
                piece = await response.content.read(REFUSAL_BODY_BYTES - len(body))
                if not piece:
                    break
                body += piece
    raise UpgradeRefused(response.status, dict(response.headers), bytes(body))


class InputEnded:
    """Yielded by `Duplex.messages` once, when the sending side has sent everything."""


INPUT_ENDED = InputEnded()
# What a sender returns to end the session at once, without waiting for the provider's close.
STOP = "stop"


class Duplex:
    """A socket read here while `send` writes to it concurrently.

    A failure of the sending side (a cap, an invalid input) ends the session with that error;
    a send that finds the socket closing stops quietly, and the receiving side reports why. A
    sender that returns `STOP` ends the session at once (its socket is closed by its owner).
    Leaving the `messages` loop cancels the sender at once.
    """

    def __init__(self, socket: ProviderSocket, send: Callable[[], Awaitable[str | None]]) -> None:
        self._socket = socket
        self._send = send
        self._failure: BaseException | None = None
        self._stopped = False

    async def messages(self) -> AsyncIterator[SocketMessage | InputEnded]:
        """Frames until `Closed` (yielded last), and `INPUT_ENDED` when the sender is done."""
        sender = asyncio.create_task(self._run_sender())
        receiving: asyncio.Future[SocketMessage] | None = None
        announced = False
        try:
            while True:
                if receiving is None:
                    receiving = asyncio.ensure_future(self._socket.receive())
                waiting: set[asyncio.Future[Any]] = {receiving}
                if not sender.done():
                    waiting.add(sender)
                await asyncio.wait(waiting, timeout=self._wait(), return_when=FIRST_COMPLETED)
                left = self._socket.gap_left()
                if left is not None and left <= 0 and not receiving.done():
                    raise event_gap_too_long(self._socket.provider, self._socket.max_gap_seconds)
                if self._failure is not None:
                    raise self._failure
                if self._stopped:
                    return
                if sender.done() and not announced:
                    announced = True
                    yield INPUT_ENDED
                if not receiving.done():
                    continue
                message, receiving = receiving.result(), None
                yield message
                if isinstance(message, Closed):
                    return
        finally:
            for task in (receiving, sender):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task

    def _wait(self) -> float:
        """How long to wait before looking at the provider's silence again."""
        limit = self._socket.max_gap_seconds
        left = self._socket.gap_left()
        # A send while waiting starts a new debt: look again well within the limit.
        return max(0.0, min(limit / 4, left if left is not None else limit))

    async def _run_sender(self) -> None:
        try:
            self._stopped = await self._send() == STOP
        except SocketGone:
            return
        except Exception as error:  # noqa: BLE001 - handed to the receiving side, raised there
            self._failure = error


class Idle:
    """Yielded by `with_idle_ticks` when the source produced nothing for a whole interval."""


IDLE = Idle()


async def with_idle_ticks(source: AsyncIterator[T], interval: float) -> AsyncIterator[T | Idle]:
    """The items of `source`, with `IDLE` after every `interval` seconds without one.

    The pending read is never cancelled by a tick (cancelling it would close the source).
    """
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(source))
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield IDLE
                continue
            ready, pending = pending, None
            try:
                item = ready.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            with suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending


def socket_url(base_url: str, path: str, params: Sequence[tuple[str, str]]) -> str:
    """The WebSocket URL of `path` under an http(s) base URL (ws/wss), options in the query.

    The query carries options only, never a key: keys go in the handshake's headers.
    """
    parts = urlsplit(base_url.rstrip("/") + "/" + path.lstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(list(params)), parts.fragment))


class UnknownMessages:
    """Logs each unknown message type once per session (its type only, never its content)."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._seen: set[str] = set()

    def note(self, kind: str) -> None:
        name = kind[:64]
        if name not in self._seen:
            self._seen.add(name)
            log.warning("unknown provider message", provider=self._provider, message_type=name)
