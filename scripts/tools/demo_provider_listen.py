"""The demo provider's Deepgram live transcription: the `/v1/listen` WebSocket.

Whatever the audio, each stretch of it is heard as the fixed answer's words, spread over the
stretch's duration (counted from the bytes of the declared encoding, as Deepgram counts audio
sent, not wall time). Binary frames are audio; `{"type":"KeepAlive"}` is ignored;
`{"type":"Finalize"}` ends the stretch with a final `Results` (`from_finalize`, `speech_final`);
`{"type":"CloseStream"}` does the same, then sends `Metadata` and closes normally. With
`vad_events=true` a stretch opens with `SpeechStarted`; with `interim_results=true` every
second of audio gets an interim `Results`; with `utterance_end_ms` a final is followed by
`UtteranceEnd`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from scripts.tools.demo_provider_speak import deepgram_error, refusal
from scripts.tools.demo_provider_wire import ANSWER, next_request_id

_BYTES_PER_SAMPLE = {"linear16": 2, "mulaw": 1, "alaw": 1}
_MODEL_INFO = {"name": "general-nova-3", "version": "demo", "arch": "nova-3"}


@dataclass
class _Stretch:
    """The audio heard since the last final result, in seconds from the stream's start."""

    start: float = 0.0
    end: float = 0.0
    interims: int = 0

    @property
    def duration(self) -> float:
        return self.end - self.start


class _Listener:
    def __init__(
        self, socket: web.WebSocketResponse, query: dict[str, str], rate: int, request_id: str
    ) -> None:
        self._socket = socket
        self._query = query
        self._bytes_per_second = rate * _BYTES_PER_SAMPLE[query["encoding"]]
        self._request_id = request_id
        self._stretch = _Stretch()

    def _flag(self, name: str) -> bool:
        return self._query.get(name) == "true"

    async def audio(self, data: bytes) -> None:
        stretch = self._stretch
        if stretch.duration == 0 and data and self._flag("vad_events"):
            event = {"type": "SpeechStarted", "channel": [0], "timestamp": stretch.start}
            await self._socket.send_json(event)
        stretch.end += len(data) / self._bytes_per_second
        if self._flag("interim_results") and stretch.duration >= stretch.interims + 1:
            stretch.interims += 1
            await self._socket.send_json(self._results(final=False, from_finalize=False))

    def _results(self, *, final: bool, from_finalize: bool) -> dict[str, object]:
        stretch = self._stretch
        words = ANSWER.split(" ")
        if not final:
            words = words[: min(len(words) - 1, stretch.interims)]
        step = stretch.duration / len(ANSWER.split(" "))
        spoken = [
            {
                "word": word.strip(".,").lower(),
                "punctuated_word": word,
                "start": round(stretch.start + index * step, 3),
                "end": round(stretch.start + (index + 1) * step, 3),
                "confidence": 0.99,
            }
            for index, word in enumerate(words)
        ]
        alternative = {"transcript": " ".join(words), "confidence": 0.99, "words": spoken}
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round(stretch.duration, 3),
            "start": round(stretch.start, 3),
            "is_final": final,
            "speech_final": final,
            "from_finalize": from_finalize,
            "channel": {"alternatives": [alternative]},
            "metadata": {"request_id": self._request_id, "model_info": _MODEL_INFO},
        }

    async def final(self, *, from_finalize: bool) -> None:
        if self._stretch.duration <= 0:
            return
        await self._socket.send_json(self._results(final=True, from_finalize=from_finalize))
        end = self._stretch.end
        if "utterance_end_ms" in self._query:
            await self._socket.send_json(
                {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round(end, 3)}
            )
        self._stretch = _Stretch(start=end, end=end)

    async def close(self) -> None:
        await self.final(from_finalize=False)
        metadata = {
            "type": "Metadata",
            "transaction_key": "deprecated",
            "request_id": self._request_id,
            "duration": round(self._stretch.end, 3),
            "channels": 1,
        }
        await self._socket.send_json(metadata)
        await self._socket.close(code=1000)

    async def control(self, text: str) -> bool:
        """Acts on a text message; False once the stream is closed."""
        try:
            kind = json.loads(text).get("type")
        except (ValueError, AttributeError):
            kind = None
        if kind == "Finalize":
            await self.final(from_finalize=True)
        elif kind == "CloseStream":
            await self.close()
            return False
        elif kind != "KeepAlive":
            await self._socket.close(code=1008, message=b"DATA-0000")
            return False
        return True


def _format_problem(query: dict[str, str]) -> str | int:
    encoding = query.get("encoding", "")
    if encoding not in _BYTES_PER_SAMPLE:
        listed = ", ".join(_BYTES_PER_SAMPLE)
        return f"the demo provider listens to raw {listed} only (encoding= and sample_rate=)"
    rate = query.get("sample_rate", "")
    return int(rate) if rate.isdigit() and int(rate) > 0 else "sample_rate is required"


async def listen(request: web.Request) -> web.StreamResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    query = dict(request.query)
    rate = _format_problem(query)
    if isinstance(rate, str):
        return deepgram_error(400, "INVALID_QUERY_PARAMETER", rate)
    request_id = next_request_id("dg-demo-")
    socket = web.WebSocketResponse()
    socket.headers["dg-request-id"] = request_id
    await socket.prepare(request)
    listener = _Listener(socket, query, rate, request_id)
    async for message in socket:
        if message.type is WSMsgType.BINARY:
            await listener.audio(message.data)
        elif message.type is WSMsgType.TEXT and not await listener.control(message.data):
            break
    return socket
