"""Cartesia text-to-speech: `POST /tts/bytes` and the `/tts/websocket` socket.

See: https://docs.cartesia.ai/api-reference/tts/bytes and
https://docs.cartesia.ai/api-reference/tts/working-with-web-sockets/contexts.
Audio is always asked for as `container: raw` in the caller's encoding and rate (Cartesia's
own default is 32-bit float at 44.1 kHz). `/tts/bytes` answers the audio as it is produced.
On the socket, text goes into one context (`context_id`, `continue: true`; Cartesia joins the
fragments verbatim); a flush is `flush: true` and answered by `flush_done`; the end of input
is an empty transcript with `continue: false`, answered by the context's remaining audio and
`done`. Barge-in cancels the context (`cancel: true`) and later text goes into a new one;
audio still in flight for a cancelled context is dropped, and `cleared` comes before the
first audio of the new one. A context expires a second after its last audio, so text after
its `done` goes into a new context too; a session that ends early cancels only a context
that is still open, never one that is done or already cancelled. Word timestamps (seconds
from the context's start) are made relative to the stream start. Cartesia closes sockets idle
for 5 minutes and has no keep-alive message.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument
from integration_api.providers.cartesia.errors import classify_http, socket_error, text_error
from integration_api.providers.cartesia.verification import PROVIDER, cartesia_headers
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.synthesized_audio import synthesized_audio
from integration_api.providers.websocket import (
    STOP,
    Closed,
    Duplex,
    ProviderSocket,
    Text,
    UnknownMessages,
    closed_before_the_end,
    socket_url,
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

DEFAULT_MODEL = "sonic-2"
VOICE_FIELD = "config.voice"
ENCODINGS = {
    AudioEncoding.LINEAR16: "pcm_s16le",
    AudioEncoding.MULAW: "pcm_mulaw",
    AudioEncoding.ALAW: "pcm_alaw",
}
RATES = (8000, 16000, 22050, 24000, 44100, 48000)


def tts_format_problem(audio: AudioFormat) -> str | None:
    if audio.encoding in ENCODINGS and audio.sample_rate_hz in RATES:
        return None
    return (
        f"cartesia produces no {audio.encoding.value} at {audio.sample_rate_hz} Hz "
        "(linear16, mulaw, alaw at 8000, 16000, 22050, 24000, 44100 or 48000)"
    )


def generation_fields(credential: ProviderCredential, options: SynthesisOptions) -> dict[str, Any]:
    """What every request of one synthesis carries (Cartesia wants it the same in a context)."""
    if not options.voice.strip():
        raise InvalidArgument.for_field(VOICE_FIELD, "is required for cartesia (a voice id)")
    fields: dict[str, Any] = {
        "model_id": options.model or credential.config.default_model or DEFAULT_MODEL,
        "voice": {"mode": "id", "id": options.voice},
        "output_format": {
            "container": "raw",
            "encoding": ENCODINGS[options.audio.encoding],
            "sample_rate": options.audio.sample_rate_hz,
        },
    }
    if options.language:
        fields["language"] = options.language
    return fields


class CartesiaSynthesizer:
    """`POST /tts/bytes`: raw audio as it is produced."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        return tts_format_problem(audio)

    async def synthesize(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        text: str,
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        url = join_url(resolve_base_url(PROVIDER, credential.config), "tts/bytes")
        body = {**generation_fields(credential, options), "transcript": text}
        async for event in synthesized_audio(
            transport.http,
            url,
            provider=PROVIDER,
            text=text,
            headers=cartesia_headers(credential),
            json_body=body,
            secrets=(api_key_of(credential),),
            classify_error=classify_http,
        ):
            yield event


class CartesiaStreamSynthesizer:
    """The `/tts/websocket` socket: one context per stretch of speech."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        return tts_format_problem(audio)

    async def synthesize_stream(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        inputs: AsyncIterator[SynthesisInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        fields = generation_fields(credential, options)
        url = socket_url(resolve_base_url(PROVIDER, credential.config), "tts/websocket", [])
        async with transport.sockets.connect(
            url,
            provider=PROVIDER,
            headers=cartesia_headers(credential),
            secrets=(api_key_of(credential),),
            classify_error=classify_http,
        ) as socket:
            session = _ContextSession(socket, inputs, options.audio, fields)
            async for event in session.events():
                yield event


class _ContextSession:
    def __init__(
        self,
        socket: ProviderSocket,
        inputs: AsyncIterator[SynthesisInput],
        audio: AudioFormat,
        fields: dict[str, Any],
    ) -> None:
        self._socket = socket
        self._inputs = inputs
        self._audio = audio
        self._fields = fields
        self._context = ""
        self._open = False  # text went into the current context and it is not done
        self._context_start = 0.0
        self._audio_bytes = 0
        self._cancelled: set[str] = set()
        self._clear_pending = False
        self._ending = False
        self.characters = 0
        self._unknown = UnknownMessages(PROVIDER)

    def _new_context(self) -> None:
        self._context = secrets.token_hex(8)
        self._context_start = self._audio.seconds_of(self._audio_bytes) or 0.0
        # Cancelling the context is what ends it at once when the session ends early.
        self._socket.end_of_input = {"context_id": self._context, "cancel": True}
        self._open = True

    def _context_over(self) -> None:
        """The current context is cancelled or done: closing the session cancels nothing.

        Cartesia expires a finished context; a cancel for it is a message about a context
        that no longer exists.
        """
        self._open = False
        self._socket.end_of_input = None

    async def _request(self, transcript: str, *, more: bool, **extra: object) -> None:
        body = {**self._fields, "transcript": transcript, "context_id": self._context}
        await self._socket.send_json({**body, "continue": more, "add_timestamps": True, **extra})

    async def _send(self) -> str | None:
        async for item in self._inputs:
            if isinstance(item, ClearInput):
                if self._open:
                    self._cancelled.add(self._context)
                    await self._socket.send_json({"context_id": self._context, "cancel": True})
                    self._context_over()
                self._clear_pending = True
            elif isinstance(item, FlushInput):
                if self._open:
                    await self._request("", more=True, flush=True)
            elif item.text:
                if not self._open:
                    self._new_context()
                self.characters += len(item.text)
                await self._request(item.text, more=True)
        if not self._open:
            return STOP  # nothing left to speak
        self._ending = True
        await self._request("", more=False)
        return None

    async def events(self) -> AsyncIterator[SynthesisEvent]:
        async for message in Duplex(self._socket, self._send).messages():
            if isinstance(message, Text):
                for event in self._read(message):
                    yield event
                    if isinstance(event, SynthesisDone):
                        return
            elif isinstance(message, Closed):
                raise closed_before_the_end(PROVIDER, message)
        if self._clear_pending:
            yield Cleared()
        yield SynthesisDone(PROVIDER, characters=self.characters)

    def _read(self, message: Text) -> list[SynthesisEvent]:
        body = message.json()
        if not isinstance(body, dict):
            raise text_error(self._socket, message.data)
        kind = body.get("type")
        context = body.get("context_id")
        if kind == "error":
            if context in self._cancelled:
                return []  # an error about a context already given up
            raise socket_error(self._socket, body)
        if context in self._cancelled or context != self._context:
            return []  # audio in flight for a cancelled context
        events: list[SynthesisEvent] = []
        if kind == "chunk":
            events = self._chunk(body)
        elif kind == "timestamps":
            events = self._timestamps(body.get("word_timestamps"))
        elif kind == "flush_done":
            events = [Flushed()]
        elif kind == "done":
            # Before anything is yielded: the consumer may stop reading at the final event.
            self._context_over()
            if self._ending:
                events = [SynthesisDone(PROVIDER, characters=self.characters)]
        elif kind != "phoneme_timestamps":
            self._unknown.note(str(kind))
        if events and self._clear_pending:
            self._clear_pending = False
            events.insert(0, Cleared())
        return events

    def _chunk(self, body: Mapping[str, Any]) -> list[SynthesisEvent]:
        try:
            data = base64.b64decode(str(body.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise text_error(self._socket, "") from None
        self._audio_bytes += len(data)
        return [AudioChunk(data)] if data else []

    def _timestamps(self, raw: object) -> list[SynthesisEvent]:
        if not isinstance(raw, dict):
            return []
        words, starts, ends = raw.get("words"), raw.get("start"), raw.get("end")
        if not (isinstance(words, list) and isinstance(starts, list) and isinstance(ends, list)):
            return []
        offset = self._context_start
        items = tuple(
            AlignedText(str(word), offset + begin, offset + end)
            for word, begin, end in zip(words, starts, ends, strict=False)
            if isinstance(begin, (int, float)) and isinstance(end, (int, float))
        )
        return [Alignment(AlignmentUnit.WORD, items)] if items else []
