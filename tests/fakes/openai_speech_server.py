"""A replay server on 127.0.0.1 for OpenAI speech, built from the wire reference.

`POST /v1/audio/speech` answers chunked raw audio; `POST /v1/audio/transcriptions` records the
multipart form (fields in `query`, the file in `frames`) and answers the documented event
stream: text deltas, then `transcript.text.done`, then `data: [DONE]`. `behaviour` switches to
a failure: an invalid-key 401, an error event inside the stream, a stream that stops before
`transcript.text.done`, a plain JSON answer (a model that does not stream: `{"text"}`, or the
`verbose_json` with words and duration that `whisper-1` is asked for). Error texts quote the
key the request carried, as careless providers do.
"""

from __future__ import annotations

import json

from aiohttp import BodyPartReader, web

from tests.fakes.speech_servers import AUDIO, TRANSCRIPT, SpeechServer, credential_of

# `whisper-1`'s `verbose_json` answer with word times (shortened).
WHISPER_VERBOSE = {
    "task": "transcribe",
    "language": "english",
    "duration": 2.3,
    "text": TRANSCRIPT,
    "words": [
        {"word": "Paris", "start": 0.0, "end": 0.4},
        {"word": "at", "start": 0.45, "end": 0.6},
    ],
    "segments": [],
}


def _unauthorized(request: web.Request) -> web.Response:
    error = {
        "message": f"Incorrect API key provided: {credential_of(request)}.",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
    return web.json_response({"error": error}, status=401)


class OpenAISpeechServer(SpeechServer):
    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/audio/speech", self._speech)
        app.router.add_post("/v1/audio/transcriptions", self._transcriptions)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": []})

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        session = self._record(request)
        session.frames.append(await request.text())
        if self.behaviour == "unauthorized":
            return _unauthorized(request)
        response = web.StreamResponse(headers={"x-request-id": "req_speech_1"})
        response.content_type = "application/octet-stream"
        await response.prepare(request)
        for _ in range(3):
            await response.write(AUDIO)
        await response.write_eof()
        return response

    async def _transcriptions(self, request: web.Request) -> web.StreamResponse:
        session = self._record(request)
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            assert isinstance(part, BodyPartReader)
            if part.name == "file":
                session.frames.append(bytes(await part.read()))
                session.query["file_name"] = part.filename or ""
            else:
                session.query[str(part.name)] = await part.text()
        if self.behaviour == "unauthorized":
            return _unauthorized(request)
        if self.behaviour == "not_streaming":
            if session.query.get("response_format") == "verbose_json":
                return web.json_response(WHISPER_VERBOSE)
            return web.json_response({"text": TRANSCRIPT, "usage": {"type": "duration"}})
        response = web.StreamResponse(headers={"x-request-id": "req_stt_1"})
        response.content_type = "text/event-stream"
        await response.prepare(request)
        for word in ("Paris", " at"):
            await _event(response, {"type": "transcript.text.delta", "delta": word})
        if self.behaviour == "stream_error":
            error = {
                "message": f"Server error for {credential_of(request)}",
                "type": "server_error",
            }
            await _event(response, {"type": "error", "error": error})
        elif self.behaviour != "missing_done":
            usage = {"type": "tokens", "input_tokens": 14, "output_tokens": 45, "total_tokens": 59}
            done = {"type": "transcript.text.done", "text": TRANSCRIPT, "usage": usage}
            await _event(response, done)
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def _event(response: web.StreamResponse, payload: object) -> None:
    await response.write(f"data: {json.dumps(payload)}\n\n".encode())
