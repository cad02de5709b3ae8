"""ElevenLabs text-to-speech: `POST /v1/text-to-speech/{voice}/stream` and the `stream-input`
WebSocket.

See: https://elevenlabs.io/docs/api-reference/text-to-speech/stream and
https://elevenlabs.io/docs/api-reference/text-to-speech/v-1-text-to-speech-voice-id-stream-input.
The HTTP answer is raw audio in `output_format`. On the socket the first message is a single
space, `{"text":" "}` also keeps an idle socket alive (ElevenLabs ends one after 20 s), and
`{"text":""}` ends the input: the remaining audio, then `{"isFinal":true}`, then close 1000.
Audio arrives base64 in JSON with alignment in milliseconds relative to each chunk, made
relative to the stream start here. The socket has no clear: barge-in closes it, drops whatever
was still coming, and opens a new one for the text that follows.
A flush (`flush: true`) has no answer of its own on this socket, so it is answered here as
Deepgram and Cartesia answer theirs, with `Flushed`, once the audio of every character sent
before it has arrived: the alignment ElevenLabs sends with each chunk (`sync_alignment`) names
the characters that chunk speaks, and non-blank characters are counted on both sides (spacing
is the provider's to trim). A flush with nothing left to speak is answered at the next message;
flushes still unanswered when `isFinal` arrives are answered before the end.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument
from integration_api.providers.elevenlabs.errors import classify_http, socket_error
from integration_api.providers.elevenlabs.verification import PROVIDER, elevenlabs_headers
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.synthesized_audio import synthesized_audio
from integration_api.providers.websocket import (
    STOP,
    Closed,
    Duplex,
    Idle,
    ProviderSocket,
    Text,
    UnknownMessages,
    abnormal_close,
    socket_url,
    with_idle_ticks,
)
from integration_api.speech.contract import (
    AlignedText,
    Alignment,
    AlignmentUnit,
    AudioChunk,
    AudioEncoding,
    AudioFormat,
    Cleared,
    ClearInput,
    Flushed,
    FlushInput,
    SynthesisDone,
    SynthesisEvent,
    SynthesisInput,
    SynthesisOptions,
)
from integration_api.upstream.stream_errors import truncated

DEFAULT_MODEL = "eleven_flash_v2_5"
VOICE_FIELD = "config.voice"
_VOICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PCM_RATES = (8000, 16000, 22050, 24000, 32000, 44100, 48000)
_MP3 = {22050: "mp3_22050_32", 24000: "mp3_24000_48", 44100: "mp3_44100_128"}


def output_format(audio: AudioFormat) -> str | None:
    """ElevenLabs' `output_format` for `audio`, or None when it produces no such audio."""
    rate = audio.sample_rate_hz
    if audio.encoding is AudioEncoding.LINEAR16 and rate in _PCM_RATES:
        return f"pcm_{rate}"
    if audio.encoding is AudioEncoding.MULAW and rate == 8000:
        return "ulaw_8000"
    if audio.encoding is AudioEncoding.ALAW and rate == 8000:
        return "alaw_8000"
    if audio.encoding is AudioEncoding.OPUS and rate == 48000:
        return "opus_48000_64"
    if audio.encoding is AudioEncoding.MP3:
        return _MP3.get(rate)
    return None


def _format_problem(audio: AudioFormat) -> str | None:
    if output_format(audio) is None:
        return (
            f"elevenlabs produces no {audio.encoding.value} at {audio.sample_rate_hz} Hz "
            "(pcm 8000-48000, mulaw/alaw 8000, opus 48000, mp3 22050/24000/44100)"
        )
    return None


def _voice(options: SynthesisOptions) -> str:
    # The voice id becomes a path segment: anything but an id could change the path.
    if not _VOICE_ID.fullmatch(options.voice):
        raise InvalidArgument.for_field(VOICE_FIELD, "must be an ElevenLabs voice id")
    return options.voice


def _model(credential: ProviderCredential, options: SynthesisOptions) -> str:
    return options.model or credential.config.default_model or DEFAULT_MODEL


class ElevenLabsSynthesizer:
    """`POST /v1/text-to-speech/{voice}/stream`: raw audio as it is produced."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        return _format_problem(audio)

    async def synthesize(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        text: str,
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        base = resolve_base_url(PROVIDER, credential.config)
        url = join_url(base, f"v1/text-to-speech/{_voice(options)}/stream")
        body: dict[str, object] = {"text": text, "model_id": _model(credential, options)}
        if options.language:
            body["language_code"] = options.language
        async for event in synthesized_audio(
            transport.http,
            url,
            provider=PROVIDER,
            text=text,
            headers=elevenlabs_headers(credential),
            params={"output_format": str(output_format(options.audio))},
            json_body=body,
            secrets=(api_key_of(credential),),
            classify_error=classify_http,
            request_id_of=lambda headers: headers.get("request-id", ""),
        ):
            yield event


class ElevenLabsStreamSynthesizer:
    """The `stream-input` WebSocket, one socket per stretch of speech between clears."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        return _format_problem(audio)

    async def synthesize_stream(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        inputs: AsyncIterator[SynthesisInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        base = resolve_base_url(PROVIDER, credential.config)
        params = [
            ("model_id", _model(credential, options)),
            ("output_format", str(output_format(options.audio))),
            ("sync_alignment", "true"),
        ]
        url = socket_url(base, f"v1/text-to-speech/{_voice(options)}/stream-input", params)
        key = api_key_of(credential)
        characters = 0
        while True:
            async with transport.sockets.connect(
                url,
                provider=PROVIDER,
                headers=elevenlabs_headers(credential),
                secrets=(key,),
                end_of_input={"text": ""},
                classify_error=classify_http,
            ) as socket:
                session = _StreamInputSession(socket, inputs, options.audio, transport)
                async for event in session.events():
                    if isinstance(event, SynthesisDone):
                        event = SynthesisDone(PROVIDER, characters=characters + session.characters)
                    yield event
                characters += session.characters
                if not session.cleared:
                    return
            yield Cleared()


class _StreamInputSession:
    def __init__(
        self,
        socket: ProviderSocket,
        inputs: AsyncIterator[SynthesisInput],
        audio: AudioFormat,
        transport: SpeechTransport,
    ) -> None:
        self._socket = socket
        self._inputs = inputs
        self._audio = audio
        self._keepalive = transport.keepalive_seconds
        self._audio_bytes = 0
        self._last_aligned_end = 0.0
        self._final_seen = False
        self.cleared = False
        self.characters = 0
        # Non-blank characters sent, and spoken (by the alignment received so far).
        self._sent_marks = 0
        self._spoken_marks = 0
        # For each flush not answered yet: the characters that must be spoken first.
        self._flushes: deque[int] = deque()
        self._unknown = UnknownMessages(PROVIDER)

    async def _send(self) -> str | None:
        await self._socket.send_json({"text": " "}, keepalive=True)
        ticks = with_idle_ticks(self._inputs, self._keepalive)
        async with aclosing(ticks) as items:  # type: ignore[type-var]
            async for item in items:
                if isinstance(item, Idle):
                    await self._socket.send_json({"text": " "}, keepalive=True)
                elif isinstance(item, FlushInput):
                    self._flushes.append(self._sent_marks)
                    await self._socket.send_json({"text": " ", "flush": True})
                elif isinstance(item, ClearInput):
                    self.cleared = True
                    self._socket.abandon()
                    return STOP
                elif item.text:
                    self.characters += len(item.text)
                    self._sent_marks += _marks(item.text)
                    await self._socket.send_json({"text": item.text})
        await self._socket.send_end_of_input()
        return None

    async def events(self) -> AsyncIterator[SynthesisEvent]:
        async for message in Duplex(self._socket, self._send).messages():
            if isinstance(message, Text):
                for event in self._read(message):
                    yield event
                for _ in range(self._flushes_spoken()):
                    yield Flushed()
            elif isinstance(message, Closed):
                if not message.normal:
                    raise abnormal_close(PROVIDER, message)
                if not self._final_seen:
                    raise truncated(PROVIDER)
                yield SynthesisDone(PROVIDER)

    def _flushes_spoken(self) -> int:
        """How many pending flushes the audio received so far answers (all once it is final)."""
        answered = 0
        while self._flushes and (self._final_seen or self._flushes[0] <= self._spoken_marks):
            self._flushes.popleft()
            answered += 1
        return answered

    def _read(self, message: Text) -> list[SynthesisEvent]:
        body = message.json()
        if not isinstance(body, dict):
            self._unknown.note("not a JSON object")
            return []
        if "error" in body or "message" in body:
            kind = str(body.get("error") or "error")[:64]
            raise socket_error(kind, self._socket.sanitized(str(body.get("message") or "")))
        if body.get("isFinal") is True:
            self._final_seen = True
            return []
        if "audio" not in body:
            self._unknown.note(",".join(sorted(str(key) for key in body))[:64])
            return []
        return self._audio_events(body)

    def _audio_events(self, body: Mapping[str, Any]) -> list[SynthesisEvent]:
        try:
            data = base64.b64decode(str(body.get("audio") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise socket_error("invalid_audio", "") from None
        offset = self._audio.seconds_of(self._audio_bytes)
        start = offset if offset is not None else self._last_aligned_end
        events: list[SynthesisEvent] = []
        if data:
            self._audio_bytes += len(data)
            events.append(AudioChunk(data))
        alignment = alignment_of(body.get("alignment"), start)
        if alignment is not None:
            self._spoken_marks += sum(1 for item in alignment.items if not item.text.isspace())
            self._last_aligned_end = max(
                (item.end for item in alignment.items), default=self._last_aligned_end
            )
            events.append(alignment)
        return events


def _marks(text: str) -> int:
    """The characters of `text` that are not blank: what both sides of a flush count."""
    return len(text) - sum(1 for char in text if char.isspace())


def alignment_of(raw: object, offset: float) -> Alignment | None:
    """Character alignment of one chunk (ms from the chunk) as seconds from the stream start."""
    if not isinstance(raw, dict):
        return None
    chars = raw.get("chars") or []
    starts = raw.get("charStartTimesMs") or []
    # The documented spelling and the one the service really sends.
    durations = raw.get("charDurationsMs") or raw.get("charsDurationsMs") or []
    if not (isinstance(chars, list) and isinstance(starts, list) and isinstance(durations, list)):
        return None
    items = tuple(
        AlignedText(str(char), offset + begin / 1000, offset + (begin + length) / 1000)
        for char, begin, length in zip(chars, starts, durations, strict=False)
        if isinstance(begin, (int, float)) and isinstance(length, (int, float))
    )
    return Alignment(AlignmentUnit.CHARACTER, items) if items else None
