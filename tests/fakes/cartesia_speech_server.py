"""A replay server on 127.0.0.1 for Cartesia speech, built from the wire reference.

`POST /tts/bytes` answers raw audio; the `/tts/websocket` socket answers each generation
request of a context with a base64 `chunk` and its word `timestamps`, a flush with
`flush_done`, the context's end (`continue: false`) with a last chunk and `done`, and a
cancel with one chunk still in flight for the cancelled context. A context that is done or
cancelled no longer exists: any later message naming it is recorded as a protocol error (real
Cartesia expires a context a second after its last audio). `/stt/websocket` answers
audio with an interim `transcript`, the text command `finalize` with a final one and
`flush_done`, and `close` with `done` before closing. `behaviour` switches to a failure: an
error frame quoting the key, a 401 on HTTP or at the upgrade, a socket that closes before
`done`, a dropped connection.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import web

from tests.fakes.speech_servers import AUDIO, TRANSCRIPT, SpeechServer, credential_of


def _error_frame(request: web.Request, context_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "error",
        "done": True,
        "status_code": 429,
        "error_code": "concurrency_limited",
        "title": "Too many concurrent requests",
        "message": f"You have exceeded your plan's concurrency limit ({credential_of(request)}).",
        "request_id": "car-req-err",
    }
    if context_id is not None:
        frame["context_id"] = context_id
    return frame


class CartesiaServer(SpeechServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/voices", self._voices)
        app.router.add_post("/tts/bytes", self._bytes)
        app.router.add_get("/tts/websocket", self.socket_route(self._tts_socket))
        app.router.add_get("/stt/websocket", self.socket_route(self._stt_socket))

    async def _voices(self, request: web.Request) -> web.Response:
        return web.json_response({"data": [], "has_more": False})

    async def _bytes(self, request: web.Request) -> web.StreamResponse:
        session = self._record(request)
        session.frames.append(await request.text())
        if self.behaviour == "unauthorized":
            body = {"error_code": "invalid_api_key", "title": "Unauthorized"}
            body["message"] = f"Invalid API key: {credential_of(request)}"
            return web.json_response(body, status=401)
        response = web.StreamResponse()
        response.content_type = "application/octet-stream"
        await response.prepare(request)
        for _ in range(3):
            await response.write(AUDIO)
        await response.write_eof()
        return response

    async def _tts_socket(self, request: web.Request) -> web.StreamResponse:
        socket, session = await self._open(request)
        finished: set[str] = set()  # contexts done or cancelled: they no longer exist
        while True:
            frame = await self._receive(socket, session)
            if frame is None:
                return socket
            if await self.in_band_error(socket, request):
                return socket
            message = json.loads(frame)
            context = message["context_id"]
            if context in finished:
                what = "cancel" if message.get("cancel") else "input"
                session.protocol_errors.append(f"{what} for finished context {context}")
            if self.behaviour == "error_frame":
                await socket.send_json(_error_frame(request, context))
                continue
            if message.get("cancel"):
                finished.add(context)
                await socket.send_json(_chunk(context, b"late audio"))
                continue
            if message.get("transcript"):
                await socket.send_json(_chunk(context, AUDIO))
                await socket.send_json(_timestamps(context, message["transcript"]))
            if message.get("flush"):
                await socket.send_json(_chunk(context, AUDIO))
                await socket.send_json(
                    {
                        "type": "flush_done",
                        "done": False,
                        "flush_done": True,
                        "flush_id": 1,
                        "status_code": 206,
                        "context_id": context,
                    }
                )
            if message.get("continue") is False:
                await socket.send_json(_chunk(context, AUDIO))
                if self.behaviour == "missing_done":
                    await socket.close(code=1000)
                    return socket
                await socket.send_json(
                    {"type": "done", "done": True, "status_code": 206, "context_id": context}
                )
                finished.add(context)

    async def _stt_socket(self, request: web.Request) -> web.StreamResponse:
        if self.behaviour == "unauthorized":
            self._record(request)
            body = {"error_code": "invalid_api_key", "title": "Unauthorized"}
            body["message"] = f"Invalid API key: {credential_of(request)}"
            return web.json_response(body, status=401)
        socket, session = await self._open(request)
        audio_frames = 0
        while True:
            frame = await self._receive(socket, session)
            if frame is None:
                return socket
            if await self.in_band_error(socket, request):
                return socket
            if isinstance(frame, bytes):
                audio_frames += 1
                if self.behaviour == "error_frame":
                    await socket.send_json(_error_frame(request))
                    await socket.close(code=1000)
                    return socket
                if self.behaviour == "drop":
                    await self._drop(socket)
                    return socket
                if audio_frames == 1:
                    await socket.send_json(_transcript("Paris at", is_final=False))
                continue
            if frame in ("finalize", "close"):
                await socket.send_json(_transcript(TRANSCRIPT, is_final=True))
            if frame == "finalize":
                await socket.send_json({"type": "flush_done", "request_id": "car-stt-1"})
            if frame == "close":
                if self.behaviour != "missing_done":
                    await socket.send_json({"type": "done", "request_id": "car-stt-1"})
                await socket.close(code=1000)
                return socket


def _transcript(text: str, *, is_final: bool) -> dict[str, Any]:
    words = [
        {"word": word, "start": 0.2 * i, "end": 0.2 * i + 0.15}
        for i, word in enumerate(text.split())
    ]
    return {
        "type": "transcript",
        "request_id": "car-stt-1",
        "text": text,
        "is_final": is_final,
        "duration": 0.2,
        "language": "en",
        "words": words,
    }


def _chunk(context: str, audio: bytes) -> dict[str, Any]:
    return {
        "type": "chunk",
        "data": base64.b64encode(audio).decode(),
        "done": False,
        "status_code": 206,
        "step_time": 12,
        "context_id": context,
    }


def _timestamps(context: str, transcript: str) -> dict[str, Any]:
    words = transcript.split()
    return {
        "type": "timestamps",
        "done": False,
        "status_code": 206,
        "context_id": context,
        "word_timestamps": {
            "words": words,
            "start": [0.5 * i for i in range(len(words))],
            "end": [0.5 * i + 0.4 for i in range(len(words))],
        },
    }


__all__ = ["TRANSCRIPT", "CartesiaServer"]
