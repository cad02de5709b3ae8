"""Cartesia speech-to-text: the `/stt/websocket` socket (manual finalize).

See: https://docs.cartesia.ai/api-reference/stt/stt.
Options go in the query, audio as binary frames; the caller's `finalize` becomes the plain
text command `finalize` (answered by `flush_done`), and the end of input the plain text
`close`, answered by the last transcripts and `done` before Cartesia closes the socket.
`transcript` messages carry the text since the last final (never joined or trimmed here); a
final is taken as the end of an utterance. Words come as a list of `{word,start,end}` (the
API reference) or as parallel `{words,start,end}` lists (the SDK's type): both are read.
Errors are `{"type":"error",…}` frames (older API versions: plain text). A socket that closes
before `done` is truncated, never complete.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.cartesia.errors import classify_http, socket_error, text_error
from integration_api.providers.cartesia.verification import PROVIDER, cartesia_headers
from integration_api.providers.endpoints import resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.speech_options import unsupported_option
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
    TranscribeInput,
    Transcript,
    TranscriptEvent,
    TranscriptionMetadata,
    TranscriptionOptions,
    Word,
)

DEFAULT_MODEL = "ink-whisper"
ENCODINGS = {
    AudioEncoding.LINEAR16: "pcm_s16le",
    AudioEncoding.MULAW: "pcm_mulaw",
    AudioEncoding.ALAW: "pcm_alaw",
}
_LINEAR16_RATES = (8000, 16000, 22050, 24000, 44100, 48000)


def stt_format_problem(audio: AudioFormat) -> str | None:
    rate = audio.sample_rate_hz
    if audio.encoding is AudioEncoding.LINEAR16 and rate in _LINEAR16_RATES:
        return None
    if audio.encoding in (AudioEncoding.MULAW, AudioEncoding.ALAW) and rate == 8000:
        return None
    return (
        f"cartesia cannot transcribe {audio.encoding.value} at {rate} Hz "
        "(linear16 8000-48000, mulaw/alaw 8000)"
    )


def stt_model(credential: ProviderCredential, options: TranscriptionOptions) -> str:
    return options.model or credential.config.default_model or DEFAULT_MODEL


def check_options(options: TranscriptionOptions, model: str) -> None:
    """Refuses what the `/stt/websocket` socket has no parameter for (see the README's table)."""
    if options.diarize:
        raise unsupported_option(
            "config.diarize", PROVIDER, "speech-to-text does not label speakers"
        )
    if options.endpointing_seconds is not None and not model.startswith("ink-whisper"):
        raise unsupported_option(
            "config.endpointing",
            PROVIDER,
            f"takes a silence to end on for ink-whisper only, not {model}",
        )


def stream_params(options: TranscriptionOptions, model: str) -> list[tuple[str, str]]:
    params = [
        ("model", model),
        ("encoding", ENCODINGS[options.audio.encoding]),
        ("sample_rate", str(options.audio.sample_rate_hz)),
    ]
    if options.language:
        params.append(("language", options.language.split("-")[0]))
    if options.endpointing_seconds is not None:
        params.append(("max_silence_duration_secs", f"{options.endpointing_seconds:g}"))
    params.extend(("keyterm", term) for term in options.keyterms)
    return params


class CartesiaTranscriber:
    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        return stt_format_problem(audio)

    async def transcribe(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[TranscriptEvent, None]:
        model = stt_model(credential, options)
        check_options(options, model)
        base = resolve_base_url(PROVIDER, credential.config)
        url = socket_url(base, "stt/websocket", stream_params(options, model))
        async with transport.sockets.connect(
            url,
            provider=PROVIDER,
            headers=cartesia_headers(credential),
            secrets=(api_key_of(credential),),
            end_of_input="close",
            classify_error=classify_http,
        ) as socket:
            session = _SttSession(socket, inputs, options)
            async for event in session.events():
                yield event


class _SttSession:
    def __init__(
        self,
        socket: ProviderSocket,
        inputs: AsyncIterator[TranscribeInput],
        options: TranscriptionOptions,
    ) -> None:
        self._socket = socket
        self._inputs = inputs
        self._options = options
        self._audio_bytes = 0
        self._request_id = ""
        self._unknown = UnknownMessages(PROVIDER)

    async def _send(self) -> None:
        async for item in self._inputs:
            if isinstance(item, AudioInput):
                self._audio_bytes += len(item.data)
                await self._socket.send_bytes(item.data)
            else:
                await self._socket.send_text("finalize")
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
                raise closed_before_the_end(PROVIDER, message)

    def _read(self, message: Text) -> TranscriptEvent | None:
        body = message.json()
        if not isinstance(body, dict):
            raise text_error(self._socket, message.data)
        kind = body.get("type")
        self._request_id = self._request_id or str(body.get("request_id") or "")[:128]
        if kind == "error":
            raise socket_error(self._socket, body)
        if kind == "transcript":
            return self._transcript(body)
        if kind == "done":
            return TranscriptionMetadata(
                PROVIDER,
                provider_request_id=self._request_id,
                audio_duration=self._options.audio.seconds_of(self._audio_bytes),
            )
        if kind != "flush_done":
            self._unknown.note(str(kind))
        return None

    def _transcript(self, body: Mapping[str, Any]) -> Transcript | None:
        final = body.get("is_final") is True
        text = str(body.get("text") or "")
        if not text and not final:
            return None
        if not final and not self._options.interim_results:
            return None
        words = words_of(body.get("words"))
        return Transcript(
            text=text,
            is_final=final,
            end_of_utterance=final,
            start=words[0].start if words else 0.0,
            end=words[-1].end if words else 0.0,
            words=words,
            language=str(body.get("language") or ""),
        )


def words_of(raw: object) -> tuple[Word, ...]:
    """The words of a transcript, from either of the shapes Cartesia documents."""
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    words: list[Word] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("words"), list):
            words.extend(_parallel_words(item))
        else:
            words.append(_word(item))
    return tuple(words)


def _parallel_words(item: Mapping[str, Any]) -> list[Word]:
    starts, ends = item.get("start"), item.get("end")
    if not isinstance(starts, list) or not isinstance(ends, list):
        return []
    return [
        Word(text=str(text), start=_number(start), end=_number(end))
        for text, start, end in zip(item["words"], starts, ends, strict=False)
    ]


def _word(item: Mapping[str, Any]) -> Word:
    return Word(
        text=str(item.get("word") or item.get("text") or ""),
        start=_number(item.get("start")),
        end=_number(item.get("end")),
    )


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
