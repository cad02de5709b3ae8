"""AssemblyAI Universal Streaming v3: the `/v3/ws` WebSocket.

See: https://www.assemblyai.com/docs/api-reference/streaming-api/streaming-api.
Every option is in the URL; audio goes as binary frames of 50 to 1000 ms each (anything else
ends the session with 3007), so the caller's chunks are re-chunked here into 100 ms messages
and the last one is padded with silence up to 50 ms. `ForceEndpoint` at the caller's end of
turn; `Terminate` ends the input, after which the last `Turn`s, a `Termination` and close 1000
follow. Errors are an `Error` frame and then a close with the same code. Word times are in
milliseconds, converted to seconds here. With `format_turns` (the caller's `punctuate`) a turn
ends twice: unformatted, then formatted; the formatted one is the final (models that always
format send it once). Partial turns always come; they reach the caller only when asked for.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import ServiceError
from integration_api.providers.assemblyai.errors import KNOWN_CODES, session_error
from integration_api.providers.assemblyai.verification import (
    PROVIDER,
    assemblyai_headers,
    streaming_base_url,
)
from integration_api.providers.key_material import api_key_of
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.websocket import (
    Closed,
    Duplex,
    ProviderSocket,
    Text,
    UnknownMessages,
    closed_before_the_end,
    socket_url,
)
from integration_api.speech.contract import (
    AudioEncoding,
    AudioFormat,
    AudioInput,
    SpeechStarted,
    TranscribeInput,
    Transcript,
    TranscriptEvent,
    TranscriptionMetadata,
    TranscriptionOptions,
    Word,
)

DEFAULT_MODEL = "universal-streaming-english"
ENCODINGS = {AudioEncoding.LINEAR16: "pcm_s16le", AudioEncoding.MULAW: "pcm_mulaw"}
_SILENCE = {AudioEncoding.LINEAR16: b"\x00", AudioEncoding.MULAW: b"\xff"}
MESSAGE_SECONDS = 0.1
MIN_MESSAGE_SECONDS = 0.05


def stream_params(options: TranscriptionOptions, model: str) -> list[tuple[str, str]]:
    params = [
        ("sample_rate", str(options.audio.sample_rate_hz)),
        ("encoding", ENCODINGS[options.audio.encoding]),
        ("speech_model", model),
        # Punctuation and casing; without it a voice agent gets each turn without the wait.
        ("format_turns", "true" if options.punctuate else "false"),
    ]
    language = options.language.split("-")[0]
    if language:
        params.append(("language_codes", json.dumps([language])))
    if options.endpointing_seconds is not None:
        params.append(("min_turn_silence", str(round(options.endpointing_seconds * 1000))))
    if options.keyterms:
        params.append(("keyterms_prompt", json.dumps(list(options.keyterms))))
    if options.diarize:
        params.append(("speaker_labels", "true"))
    return params


class Rechunker:
    """Caller chunks in, messages of `MESSAGE_SECONDS` out (none above the maximum)."""

    def __init__(self, audio: AudioFormat) -> None:
        width = audio.encoding.bytes_per_sample or 1
        self._frame = width
        self._size = _bytes_for(audio, MESSAGE_SECONDS)
        self._minimum = _bytes_for(audio, MIN_MESSAGE_SECONDS)
        self._silence = _SILENCE[audio.encoding]
        self._held = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._held += data
        ready: list[bytes] = []
        while len(self._held) >= self._size:
            ready.append(bytes(self._held[: self._size]))
            del self._held[: self._size]
        return ready

    def flush(self) -> list[bytes]:
        """What is held, padded with silence to the shortest message AssemblyAI takes."""
        if not self._held:
            return []
        rest = bytes(self._held) + self._silence * max(0, self._minimum - len(self._held))
        self._held.clear()
        return [rest]


def _bytes_for(audio: AudioFormat, seconds: float) -> int:
    width = audio.encoding.bytes_per_sample or 1
    return max(width, round(audio.sample_rate_hz * seconds) * width)


class AssemblyAITranscriber:
    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        if audio.encoding not in ENCODINGS:
            return f"assemblyai cannot transcribe {audio.encoding.value} (linear16, mulaw)"
        if audio.encoding is AudioEncoding.MULAW and audio.sample_rate_hz != 8000:
            return "assemblyai takes mulaw at 8000 Hz only"
        if audio.sample_rate_hz not in (8000, 16000, 22050, 24000, 44100, 48000):
            return f"assemblyai cannot transcribe linear16 at {audio.sample_rate_hz} Hz"
        return None

    async def transcribe(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[TranscriptEvent, None]:
        model = options.model or credential.config.default_model or DEFAULT_MODEL
        url = socket_url(streaming_base_url(credential), "v3/ws", stream_params(options, model))
        async with transport.sockets.connect(
            url,
            provider=PROVIDER,
            headers=assemblyai_headers(credential),
            secrets=(api_key_of(credential),),
            end_of_input={"type": "Terminate"},
        ) as socket:
            session = _StreamingSession(socket, inputs, options)
            async for event in session.events():
                yield event


class _StreamingSession:
    def __init__(
        self,
        socket: ProviderSocket,
        inputs: AsyncIterator[TranscribeInput],
        options: TranscriptionOptions,
    ) -> None:
        self._socket = socket
        self._inputs = inputs
        self._chunks = Rechunker(options.audio)
        self._interim = options.interim_results
        self._formatted = options.punctuate
        self._session_id = ""
        self._finished_turns: set[int] = set()
        self._unknown = UnknownMessages(PROVIDER)

    async def _send(self) -> None:
        async for item in self._inputs:
            if isinstance(item, AudioInput):
                for chunk in self._chunks.feed(item.data):
                    await self._socket.send_bytes(chunk)
            else:
                for chunk in self._chunks.flush():
                    await self._socket.send_bytes(chunk)
                await self._socket.send_json({"type": "ForceEndpoint"})
        for chunk in self._chunks.flush():
            await self._socket.send_bytes(chunk)
        await self._socket.send_end_of_input()

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        async for message in Duplex(self._socket, self._send).messages():
            if isinstance(message, Text):
                event = self._read(message)
                if event is not None:
                    yield event
                    if isinstance(event, TranscriptionMetadata):
                        return
            elif isinstance(message, Closed):
                raise _closed(message)

    def _read(self, message: Text) -> TranscriptEvent | None:
        body = message.json()
        kind = body.get("type") if isinstance(body, dict) else None
        if not isinstance(body, dict):
            self._unknown.note("not a JSON object")
            return None
        if kind == "Error" or (kind is None and "error" in body):
            raise self._error(body)
        if kind == "Begin":
            self._session_id = str(body.get("id") or "")[:128]
        elif kind == "Turn":
            return self._turn(body)
        elif kind == "SpeechStarted":
            return SpeechStarted(at=_seconds(body.get("timestamp")))
        elif kind == "Termination":
            duration = body.get("audio_duration_seconds")
            return TranscriptionMetadata(
                PROVIDER,
                provider_request_id=self._session_id,
                audio_duration=float(duration) if isinstance(duration, (int, float)) else None,
            )
        elif kind not in ("Warning", "Heartbeat", "SpeakerRevision"):
            self._unknown.note(str(kind))
        return None

    def _turn(self, body: Mapping[str, Any]) -> Transcript | None:
        order = body.get("turn_order")
        if order in self._finished_turns:
            return None  # a duplicate of a turn already delivered as final
        ended = body.get("end_of_turn") is True
        # Asked for formatting, the unformatted end of a turn is not its final text yet.
        final = ended and (body.get("turn_is_formatted") is True or not self._formatted)
        if final and isinstance(order, int):
            self._finished_turns.add(order)
        words = tuple(_word(item) for item in body.get("words") or () if isinstance(item, dict))
        text = str(body.get("transcript") or "")
        if not final and (not text or not self._interim):
            return None
        return Transcript(
            text=text,
            is_final=final,
            end_of_utterance=final,
            start=words[0].start if words else 0.0,
            end=words[-1].end if words else 0.0,
            confidence=_number(body.get("end_of_turn_confidence")) if final else 0.0,
            words=words,
            language=str(body.get("language_code") or ""),
        )

    def _error(self, body: Mapping[str, Any]) -> ServiceError:
        text = self._socket.sanitized(str(body.get("error") or ""))
        message = (
            f"assemblyai reported an error: {text}" if text else "assemblyai reported an error"
        )
        return session_error(body.get("error_code"), message, str(body.get("error") or ""))


def _closed(closed: Closed) -> ServiceError:
    """A close before `Termination`: by its code when the code is one of AssemblyAI's errors."""
    error = closed_before_the_end(PROVIDER, closed)
    if closed.code not in KNOWN_CODES:
        return error
    typed = session_error(closed.code, error.message, closed.reason)
    typed.metadata.update(error.metadata)
    return typed


def _word(item: Mapping[str, Any]) -> Word:
    speaker = str(item.get("speaker") or "")
    return Word(
        text=str(item.get("text") or ""),
        start=_seconds(item.get("start")),
        end=_seconds(item.get("end")),
        confidence=_number(item.get("confidence")),
        speaker="" if speaker == "PENDING" else speaker,
    )


def _seconds(milliseconds: object) -> float:
    return _number(milliseconds) / 1000


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
