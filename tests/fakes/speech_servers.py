"""Replay servers on 127.0.0.1 for Deepgram and ElevenLabs speech, built from the wire reference.

One aiohttp server per provider answers its live-transcription socket, its HTTP synthesis and
its streaming-synthesis socket with the recorded message shapes, and records what the service
sent: handshake headers and query, every frame in order. `behaviour` switches a session to a
failure the reference documents (a close code with a reason, an error frame, a quota 401, a
dropped connection, an idle close without keep-alive, a provider that goes silent, a frame
past the service's limit), or, for Deepgram, to the failures a route moves on from: a 429 with
its reset headers, a 503, a connection dropped before any result, a first result `slow_seconds`
late; `kill()` takes the whole server away mid-call. `upgrade_refusal` (a status and a JSON
body) refuses every socket's upgrade with that answer, as a provider refuses a bad key, spent
credit or a bad query at the handshake; `error_frame` and `error_close` answer a socket's first
message with an in-band error frame and a close (code, reason), as the provider documents.
Error texts quote the credential the request carried in full, as careless providers do, so a
test can prove the service never repeats it.
Scribe answers each commit with its plain transcript and then, when timestamps were
asked for, the timed twin ("plain_only" leaves the twin out, "close_unanswered" closes instead).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import WSMsgType, web

TRANSCRIPT = "Paris at a moment's notice."

AUDIO = b"\x01\x02" * 400


@dataclass
class Session:
    """What one socket or request brought: path, query, headers, frames (text or bytes)."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    frames: list[str | bytes] = field(default_factory=list)
    socket: web.WebSocketResponse | None = None
    # The service closed the socket (its close frame arrived).
    client_closed: bool = False
    # The server is done with the socket (closed it, or found it closed).
    ended: bool = False
    # What the service sent that the provider's protocol does not allow, in order.
    protocol_errors: list[str] = field(default_factory=list)

    def texts(self) -> list[Any]:
        return [_decoded(frame) for frame in self.frames if isinstance(frame, str)]

    async def closed(self, within: float = 2.0) -> bool:
        """Whether the socket is closed by then (by either side)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if self.ended or (self.socket is not None and self.socket.closed):
                return True
            await asyncio.sleep(0.01)
        return False


SESSION = web.RequestKey("speech_session", Session)


class _UpgradeRefused(Exception):
    """Raised by `_open` under `upgrade_refusal`: the socket route answers with `response`."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _decoded(frame: str) -> Any:
    """A text frame as JSON, or the bare text of a command that is not JSON (`close`)."""
    try:
        return json.loads(frame)
    except ValueError:
        return frame


def credential_of(request: web.Request) -> str:
    """The key the request carried, whatever header the provider uses."""
    for name in ("Authorization", "xi-api-key", "X-API-Key"):
        if name in request.headers:
            return request.headers[name]
    return ""


class SpeechServer:
    """Base: an aiohttp app on 127.0.0.1:0 recording sessions, with a switchable behaviour."""

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.behaviour = "normal"
        self.idle_close_seconds = 0.0
        # (status, JSON body) every socket upgrade is refused with; "{key}" in a string of the
        # body is replaced by the credential the request carried.
        self.upgrade_refusal: tuple[int, dict[str, Any]] | None = None
        # The in-band error (frame, then close code and reason) a socket's first message gets.
        self.error_frame: dict[str, Any] | None = None
        self.error_close: tuple[int, str] | None = None
        # Under behaviour "slow": how long the first result or audio waits.
        self.slow_seconds = 0.0
        self._released = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def delay(self) -> None:
        """Waits `slow_seconds`, or until the server is killed."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), self.slow_seconds)

    async def kill(self) -> None:
        """Gone mid-call: every connection dropped without a close frame, the port closed."""
        self._released.set()
        for session in self.sessions:
            if session.socket is not None:
                await self._drop(session.socket)
        await self.__aexit__()
        self._runner = None

    def refusal(self, request: web.Request) -> web.Response | None:
        """The answer under a refusing behaviour: 429 with reset headers, or 503; else None."""
        if self.behaviour == "rate_limited":
            self._record(request)
            headers = {"Retry-After": "7", "x-ratelimit-reset-requests": "7s"}
            body = {"err_code": "TOO_MANY_REQUESTS", "err_msg": "Too many requests"}
            return web.json_response(body, status=429, headers=headers)
        if self.behaviour == "overloaded":
            self._record(request)
            body = {"err_code": "SERVICE_UNAVAILABLE", "err_msg": "Try again later"}
            return web.json_response(body, status=503)
        return None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def socket_route(self, handler: Handler) -> Handler:
        """`handler` for a socket: a service gone mid-answer ends the session quietly."""

        async def serve(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except _UpgradeRefused as refused:
                return refused.response
            except ConnectionResetError:
                socket = request[SESSION].socket
                assert socket is not None
                return socket
            finally:
                if SESSION in request:
                    request[SESSION].ended = True

        return serve

    async def __aenter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _record(self, request: web.Request) -> Session:
        session = Session(
            request.path,
            dict(request.query),
            {k.lower(): v for k, v in request.headers.items()},
        )
        self.sessions.append(session)
        return session

    async def _open(self, request: web.Request) -> tuple[web.WebSocketResponse, Session]:
        if self.upgrade_refusal is not None:
            self._record(request)
            status, body = self.upgrade_refusal
            text = json.dumps(body).replace("{key}", credential_of(request))
            response = web.Response(status=status, text=text, content_type="application/json")
            raise _UpgradeRefused(response)
        socket = web.WebSocketResponse(autoclose=False, max_msg_size=0)
        await socket.prepare(request)
        session = self._record(request)
        session.socket = socket
        request[SESSION] = session
        return socket, session

    async def _receive(self, socket: web.WebSocketResponse, session: Session) -> Any:
        """The next frame (recorded), or None when the client closed or went idle too long."""
        timeout = self.idle_close_seconds or None
        try:
            message = await socket.receive(timeout)
        except TimeoutError:
            return None
        if message.type is WSMsgType.TEXT:
            session.frames.append(message.data)
            return message.data
        if message.type is WSMsgType.BINARY:
            session.frames.append(message.data)
            return message.data
        if message.type is WSMsgType.CLOSE:
            session.client_closed = True
            await socket.close()
        return None

    async def in_band_error(self, socket: web.WebSocketResponse, request: web.Request) -> bool:
        """Under `error_frame` or `error_close`: the frame, then the close; True when sent."""
        if self.error_frame is None and self.error_close is None:
            return False
        key = credential_of(request)
        if self.error_frame is not None:
            await socket.send_str(json.dumps(self.error_frame).replace("{key}", key))
        code, reason = self.error_close or (1000, "")
        await socket.close(code=code, message=reason.replace("{key}", key).encode())
        return True

    async def _drop(self, socket: web.WebSocketResponse) -> None:
        """The connection goes away without a close frame."""
        transport = socket._req.transport if socket._req is not None else None
        if transport is not None:
            transport.abort()


class DeepgramServer(SpeechServer):
    # Under behaviour "edited_results": (text, replacement) in the first Results frame's JSON,
    # so that a test can send what no JSON encoder writes (`NaN`, a 400-digit number).
    results_edit: tuple[str, str] | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/projects", self._projects)
        app.router.add_get("/v1/listen", self.socket_route(self._listen))
        app.router.add_get("/v1/speak", self.socket_route(self._speak_socket))
        app.router.add_post("/v1/speak", self._speak)

    async def _projects(self, request: web.Request) -> web.Response:
        return web.json_response({"projects": []})

    async def _listen(self, request: web.Request) -> web.StreamResponse:
        if self.behaviour == "unauthorized":
            self._record(request)
            body = {"err_code": "INVALID_AUTH", "err_msg": f"Invalid {credential_of(request)}"}
            return web.json_response(body, status=401)
        refused = self.refusal(request)
        if refused is not None:
            return refused
        socket, session = await self._open(request)
        key = credential_of(request)
        audio_frames = 0
        while True:
            frame = await self._receive(socket, session)
            if frame is None:
                # Deepgram's own idle close: 10 s without audio or KeepAlive.
                await socket.close(code=1011, message=b"NET-0001 no audio received")
                return socket
            if await self.in_band_error(socket, request):
                return socket
            if isinstance(frame, bytes):
                audio_frames += 1
                if self.behaviour == "drop_at_once":
                    await self._drop(socket)
                    return socket
                if self.behaviour == "started_then_drop":
                    # Speech detected, then gone before any transcript.
                    await socket.send_json(
                        {"type": "SpeechStarted", "channel": [0], "timestamp": 0.1}
                    )
                    await asyncio.sleep(0.05)
                    await self._drop(socket)
                    return socket
                if self.behaviour in ("silent", "slow"):
                    continue
                if self.behaviour == "big_frame":
                    await socket.send_str("x" * 65536)
                if audio_frames == 1:
                    await socket.send_json(
                        {"type": "SpeechStarted", "channel": [0], "timestamp": 0.1}
                    )
                    await socket.send_str(self._interim_results())
                if self.behaviour == "undecodable":
                    reason = f"DATA-0000 cannot decode audio for {key}"[:120]
                    await socket.close(code=1008, message=reason.encode())
                    return socket
                if self.behaviour == "drop":
                    await self._drop(socket)
                    return socket
                if self.behaviour == "error_message":
                    # Newer versions' in-band error, followed by an ordinary close.
                    text = f"Internal error for {key}"
                    body = {"type": "Error", "err_code": "INTERNAL", "description": text}
                    await socket.send_json(body)
                    await socket.close(code=1000)
                    return socket
                continue
            kind = json.loads(frame).get("type")
            if kind == "Finalize" and self.behaviour not in ("silent", "slow"):
                await socket.send_json(
                    _results(TRANSCRIPT, is_final=True, speech_final=True, from_finalize=True)
                )
            if kind == "CloseStream":
                break
        if self.behaviour == "slow":
            await self.delay()
        await socket.send_json(_results(TRANSCRIPT, is_final=True, speech_final=True))
        await socket.send_json({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": 2.3})
        if self.behaviour != "missing_metadata":
            await socket.send_json(
                {"type": "Metadata", "request_id": "dg-req-1", "duration": 2.3, "channels": 1}
            )
        await socket.close(code=1000)
        return socket

    def _interim_results(self) -> str:
        """The first Results frame, with `results_edit` applied under "edited_results"."""
        text = json.dumps(_results("Paris at", is_final=False))
        if self.behaviour == "edited_results" and self.results_edit is not None:
            old, new = self.results_edit
            assert old in text
            text = text.replace(old, new, 1)
        return text

    async def _speak(self, request: web.Request) -> web.StreamResponse:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        session = self._record(request)
        session.frames.append(await request.text())
        if self.behaviour == "drop_at_once" and request.transport is not None:
            request.transport.abort()
            return web.Response()
        if self.behaviour == "slow":
            await self.delay()
        response = web.StreamResponse(headers={"dg-request-id": "dg-speak-1"})
        response.content_type = "application/octet-stream"
        await response.prepare(request)
        for _ in range(3):
            await response.write(AUDIO)
        await response.write_eof()
        return response

    async def _speak_socket(self, request: web.Request) -> web.StreamResponse:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        socket, session = await self._open(request)
        await socket.send_json({"type": "Metadata", "request_id": "dg-speak-ws-1"})
        while True:
            frame = await self._receive(socket, session)
            if frame is None:
                return socket
            if await self.in_band_error(socket, request):
                return socket
            kind = json.loads(frame)["type"]
            if self.behaviour == "drop_at_once":
                await self._drop(socket)
                return socket
            if self.behaviour == "slow" and kind in ("Speak", "Flush"):
                await self.delay()
            if kind == "Speak" and self.behaviour == "odd_frames":
                # Frames that split samples: 3, 497 and 300 bytes.
                for piece in (AUDIO[:3], AUDIO[3:500], AUDIO[500:]):
                    await socket.send_bytes(piece)
            elif kind == "Speak":
                await socket.send_bytes(AUDIO)
            elif kind == "Flush":
                await socket.send_bytes(AUDIO)
                await socket.send_json({"type": "Flushed", "sequence_id": 0})
            elif kind == "Clear":
                await socket.send_bytes(b"late audio")  # in flight before the clear
                await socket.send_json({"type": "Cleared", "sequence_id": 0})
            elif kind == "Close":
                await socket.close(code=1000)
                return socket


def _results(
    text: str, *, is_final: bool, speech_final: bool = False, from_finalize: bool = False
) -> dict[str, Any]:
    words = [
        {
            "word": word.lower(),
            "punctuated_word": word,
            "start": 0.2 * i,
            "end": 0.2 * i + 0.15,
            "confidence": 0.9,
            "speaker": 0,
        }
        for i, word in enumerate(text.split())
    ]
    return {
        "type": "Results",
        "channel_index": [0, 1],
        "duration": 2.3,
        "start": 0.0,
        "is_final": is_final,
        "speech_final": speech_final,
        "from_finalize": from_finalize,
        "channel": {"alternatives": [{"transcript": text, "confidence": 0.99, "words": words}]},
        "metadata": {"request_id": "dg-req-1"},
    }


class ElevenLabsServer(SpeechServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/user", self._user)
        app.router.add_get("/v1/speech-to-text/realtime", self.socket_route(self._scribe))
        app.router.add_post("/v1/text-to-speech/{voice}/stream", self._speak)
        app.router.add_get(
            "/v1/text-to-speech/{voice}/stream-input", self.socket_route(self._stream_input)
        )

    async def _user(self, request: web.Request) -> web.Response:
        return web.json_response({"subscription": {}})

    async def _scribe(self, request: web.Request) -> web.StreamResponse:
        """Each commit is answered as Scribe documents it: `committed_transcript`, then, when
        timestamps were asked for, its `committed_transcript_with_timestamps` twin."""
        if self.behaviour == "unauthorized":
            self._record(request)
            detail = {"status": "invalid_api_key", "message": f"Invalid {credential_of(request)}"}
            return web.json_response({"detail": detail}, status=401)
        socket, session = await self._open(request)
        key = credential_of(request)
        timestamps = request.query.get("include_timestamps") == "true"
        await socket.send_json({"message_type": "session_started", "session_id": "el-sess-1"})
        while True:
            frame = await self._receive(socket, session)
            if frame is None:
                return socket
            if await self.in_band_error(socket, request):
                return socket
            chunk = json.loads(frame)
            if self.behaviour == "quota_frame":
                await socket.send_json(
                    {"message_type": "quota_exceeded", "error": f"Quota exceeded for {key}."}
                )
                await socket.close(code=1008, message=f"quota {key}".encode())
                return socket
            if self.behaviour == "drop":
                await self._drop(socket)
                return socket
            if chunk.get("audio_base_64"):
                await socket.send_json({"message_type": "partial_transcript", "text": "Paris at"})
            if chunk.get("commit"):
                if self.behaviour == "close_unanswered":
                    await socket.close(code=1000)
                    return socket
                await socket.send_json({"message_type": "committed_transcript", "text": TRANSCRIPT})
                if timestamps and self.behaviour != "plain_only":
                    await socket.send_json(_scribe_timed())

    async def _speak(self, request: web.Request) -> web.StreamResponse:
        session = self._record(request)
        session.frames.append(await request.text())
        if self.behaviour == "quota_401":
            message = f"This request exceeds the quota of {credential_of(request)}."
            detail = {"status": "quota_exceeded", "message": message}
            return web.json_response({"detail": detail}, status=401)
        response = web.StreamResponse(headers={"request-id": "el-speak-1"})
        response.content_type = "audio/mpeg"
        await response.prepare(request)
        for _ in range(3):
            await response.write(AUDIO)
        await response.write_eof()
        return response

    async def _stream_input(self, request: web.Request) -> web.StreamResponse:
        socket, session = await self._open(request)
        key = credential_of(request)
        buffered = ""
        while True:
            frame = await self._receive(socket, session)
            if frame is None:
                if session.client_closed:
                    return socket
                await socket.send_json(
                    {
                        "message": "Have not received a new text input within the timeout of 20.0 "
                        f"seconds ({key}).",
                        "error": "input_timeout_exceeded",
                        "code": 1008,
                    }
                )
                await socket.close(code=1008, message=f"input timeout {key}".encode())
                return socket
            if await self.in_band_error(socket, request):
                return socket
            message = json.loads(frame)
            text = message.get("text")
            if text == "":
                await self._speak_buffer(socket, buffered + "!")
                if self.behaviour != "missing_final":
                    await socket.send_json({"isFinal": True})
                await socket.close(code=1000)
                return socket
            buffered += text or ""
            # Under "buffered", generation starts once the first chunk of the schedule (120
            # characters) is buffered, or at a flush; otherwise at once, as with `auto_mode`.
            # A flush has no answer of its own.
            buffering = self.behaviour == "buffered"
            if message.get("flush") or not buffering or len(buffered) >= 120:
                await self._speak_buffer(socket, buffered)
                buffered = ""

    async def _speak_buffer(self, socket: web.WebSocketResponse, text: str) -> None:
        """The audio of `text` in two messages, each aligned with its half of the text."""
        text = text.strip()
        half = len(text) // 2
        for part in (text[:half], text[half:]):
            if part:
                await socket.send_json(_eleven_audio(part, self.behaviour))


def _scribe_timed() -> dict[str, Any]:
    return {
        "message_type": "committed_transcript_with_timestamps",
        "text": TRANSCRIPT,
        "language_code": "en",
        "words": [
            {"text": "Paris", "start": 0.0, "end": 0.4, "type": "word", "logprob": -0.1},
            {"text": " ", "start": 0.4, "end": 0.45, "type": "spacing", "logprob": 0.0},
            {"text": "at", "start": 0.45, "end": 0.6, "type": "word", "logprob": -0.2},
        ],
    }


def _eleven_audio(text: str, behaviour: str = "normal") -> dict[str, Any]:
    """An audio message with its alignment; "huge_alignment" times it 1e300 ms in, and
    "nul_alignment" aligns a NUL character."""
    chars = list(text)
    if behaviour == "nul_alignment":
        chars[0] = "\x00"
    first_start = 1e300 if behaviour == "huge_alignment" else 0
    return {
        "audio": base64.b64encode(AUDIO).decode(),
        "isFinal": None,
        "alignment": {
            "chars": chars,
            "charStartTimesMs": [first_start + 10 * i for i in range(len(chars))],
            "charDurationsMs": [10] * len(chars),
        },
    }


async def settle() -> None:
    await asyncio.sleep(0)


class AssemblyAIServer(SpeechServer):
    """Universal Streaming v3: refuses messages outside 50-1000 ms as the service does (3007)."""

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v3/ws", self.socket_route(self._stream))

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        socket, session = await self._open(request)
        key = credential_of(request)
        rate = int(request.query.get("sample_rate", "16000"))
        width = 2 if request.query.get("encoding") == "pcm_s16le" else 1
        await socket.send_json({"type": "Begin", "id": "aai-sess-1", "expires_at": 1788775231})
        audio_messages = 0
        while True:
            frame = await self._receive(socket, session)
            if frame is None:
                return socket
            if await self.in_band_error(socket, request):
                return socket
            if isinstance(frame, bytes):
                audio_messages += 1
                milliseconds = 1000 * len(frame) / (rate * width)
                if not 50 <= milliseconds <= 1000 or self.behaviour == "error_frame":
                    await _assemblyai_error(socket, 3007, f"Input Duration Violation for {key}")
                    return socket
                if audio_messages == 1:
                    await socket.send_json({"type": "SpeechStarted", "timestamp": 100})
                    await socket.send_json(_turn("paris at", end_of_turn=False))
                continue
            kind = json.loads(frame).get("type")
            if kind in ("ForceEndpoint", "Terminate"):
                # Formatting asked for: the formatted turn follows its unformatted end.
                await socket.send_json(_turn(_UNFORMATTED, end_of_turn=True))
                if request.query.get("format_turns") == "true":
                    await socket.send_json(_turn(TRANSCRIPT, end_of_turn=True, formatted=True))
            if kind == "Terminate":
                if self.behaviour != "missing_termination":
                    await socket.send_json({"type": "Termination", "audio_duration_seconds": 2.3})
                await socket.close(code=1000)
                return socket


async def _assemblyai_error(socket: web.WebSocketResponse, code: int, text: str) -> None:
    await socket.send_json({"type": "Error", "error_code": code, "error": text})
    await socket.close(code=code, message=b"See Error message for details")


# How Universal-Streaming words a turn before formatting.
_UNFORMATTED = "paris at a moments notice"


def _turn(text: str, *, end_of_turn: bool, formatted: bool = False) -> dict[str, Any]:
    words = [
        {
            "start": 200 * i,
            "end": 200 * i + 150,
            "text": word,
            "confidence": 0.9,
            "word_is_final": end_of_turn,
            "speaker": "A",
        }
        for i, word in enumerate(text.split())
    ]
    return {
        "type": "Turn",
        "turn_order": 0,
        "turn_is_formatted": formatted,
        "end_of_turn": end_of_turn,
        "transcript": text,
        "end_of_turn_confidence": 0.9 if end_of_turn else 0.1,
        "words": words,
        "utterance": text if end_of_turn else "",
    }
