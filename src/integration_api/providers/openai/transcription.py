"""OpenAI transcription: `POST /v1/audio/transcriptions` with `stream=true`.

See: https://platform.openai.com/docs/api-reference/audio/createTranscription.
OpenAI's HTTP transcription is not live: it takes a whole file. A `Transcribe` session's audio
is therefore collected up to the caller's end of input (or each `finalize`, which sends what
is held as one request), wrapped in a WAV header (raw linear16, μ-law, A-law) or sent as it is
(MP3), and uploaded; the answer streams back as server-sent events: `transcript.text.delta`
(an interim of the text so far) and `transcript.text.done` (the final), maybe followed by
`data: [DONE]`. A stream without `transcript.text.done` is truncated, never complete.
A model that does not stream (`whisper-1`; OpenAI ignores `stream=true` for it) answers one
complete JSON transcript: that is the segment's final transcript, never an empty one and never
a bad answer. `whisper-1` is asked for `verbose_json` with word times, so its words and
duration come back; streamed transcripts carry no word times: OpenAI's stream gives none.
"""

from __future__ import annotations

import re
import secrets
import struct
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument, Unavailable
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.openai.chat_stream import request_id_of, stream_error
from integration_api.providers.openai.family import OPENAI
from integration_api.providers.speech_options import unsupported_option
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.sse import JSON_ANSWER, open_event_stream
from integration_api.providers.sse_fields import ServerSentEvent
from integration_api.providers.websocket import UnknownMessages
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
from integration_api.upstream.stream_errors import PROVIDER_BAD_RESPONSE, truncated
from integration_api.upstream.timer import UpstreamTimer

PROVIDER = OPENAI.provider
DEFAULT_MODEL = "gpt-4o-mini-transcribe"
MODEL_FIELD = "config.model"
# OpenAI's documented upload bound; a larger file would be refused after the whole upload.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
_NOT_STREAMING_MODELS = frozenset({"whisper-1"})
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_WAV_FORMAT_CODES = {AudioEncoding.LINEAR16: 1, AudioEncoding.ALAW: 6, AudioEncoding.MULAW: 7}
_LINEAR16_RATES = (8000, 16000, 24000, 48000)


def transcription_format_problem(audio: AudioFormat) -> str | None:
    rate = audio.sample_rate_hz
    if audio.encoding is AudioEncoding.LINEAR16 and rate in _LINEAR16_RATES:
        return None
    if audio.encoding in (AudioEncoding.MULAW, AudioEncoding.ALAW) and rate == 8000:
        return None
    if audio.encoding is AudioEncoding.MP3:
        return None
    return (
        f"openai cannot transcribe {audio.encoding.value} at {rate} Hz "
        "(linear16 8000-48000, mulaw/alaw 8000, mp3)"
    )


def wav_file(audio: AudioFormat, data: bytes) -> bytes:
    """`data` (uncompressed samples) behind the 44-byte header of a mono WAV file."""
    width = audio.encoding.bytes_per_sample or 1
    rate = audio.sample_rate_hz
    code = _WAV_FORMAT_CODES[audio.encoding]
    fmt = struct.pack("<HHIIHH", code, 1, rate, rate * width, width, width * 8)
    header = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    riff = b"RIFF" + struct.pack("<I", len(header) + 8 + len(data))
    return riff + header + b"data" + struct.pack("<I", len(data)) + data


def multipart_body(
    fields: Sequence[tuple[str, str]], file_name: str, file_type: str, data: bytes
) -> tuple[bytes, str]:
    """A `multipart/form-data` body and its content type (the boundary is random)."""
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"'
        f"\r\nContent-Type: {file_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _model(options: TranscriptionOptions) -> str:
    # A credential's default model is a chat model: transcription has its own default.
    model = options.model or DEFAULT_MODEL
    if not _TOKEN.fullmatch(model):
        raise InvalidArgument.for_field(MODEL_FIELD, "must be an OpenAI model name")
    return model


def check_options(options: TranscriptionOptions) -> None:
    """Refuses what an upload has no field for (see the README's table)."""
    if options.diarize:
        raise unsupported_option(
            "config.diarize", PROVIDER, "streams no speaker labels with its transcripts"
        )
    if options.endpointing_seconds is not None:
        raise unsupported_option(
            "config.endpointing",
            PROVIDER,
            "transcribes whole uploads: the caller's finalize ends a turn, not silence",
        )


def _form_fields(options: TranscriptionOptions, model: str) -> list[tuple[str, str]]:
    fields = [("model", model), ("stream", "true")]
    if model in _NOT_STREAMING_MODELS:
        # Its answer is one JSON transcript anyway: ask for the words and duration in it.
        fields += [("response_format", "verbose_json"), ("timestamp_granularities[]", "word")]
    else:
        fields.append(("response_format", "json"))
    language = options.language.split("-")[0]
    if language:
        if not _TOKEN.fullmatch(language):
            raise InvalidArgument.for_field("config.language", "must be a language code")
        fields.append(("language", language))
    if options.keyterms:
        # OpenAI has no key terms; its prompt is where a vocabulary hint goes.
        prompt = ", ".join(term.replace("\r", " ").replace("\n", " ") for term in options.keyterms)
        fields.append(("prompt", prompt))
    return fields


async def _segments(inputs: AsyncIterator[TranscribeInput]) -> AsyncIterator[bytes]:
    """The audio held at each `finalize` and at the end of input (never empty)."""
    held = bytearray()
    async for item in inputs:
        if isinstance(item, AudioInput):
            held += item.data
            if len(held) > MAX_UPLOAD_BYTES:
                raise InvalidArgument.for_field(
                    "audio",
                    f"openai transcribes at most {MAX_UPLOAD_BYTES} bytes per request; "
                    "send finalize between turns",
                )
        elif held:
            yield bytes(held)
            held.clear()
    if held:
        yield bytes(held)


class OpenAITranscriber:
    """Uploads each stretch of audio the caller ends, and streams its transcript back."""

    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        return transcription_format_problem(audio)

    async def transcribe(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[TranscriptEvent, None]:
        check_options(options)
        fields = _form_fields(options, _model(options))
        request = _SegmentRequest(credential, options, fields, transport)
        offset = 0.0
        async for audio in _segments(inputs):
            async for event in request.events(audio, offset):
                yield event
            offset += options.audio.seconds_of(len(audio)) or 0.0
        known = options.audio.encoding is not AudioEncoding.MP3
        yield TranscriptionMetadata(
            PROVIDER,
            provider_request_id=request.request_id,
            audio_duration=offset if known else None,
        )


class _SegmentRequest:
    """One upload and its event stream, read into transcripts timed from `offset`."""

    def __init__(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        fields: list[tuple[str, str]],
        transport: SpeechTransport,
    ) -> None:
        self._credential = credential
        self._options = options
        self._fields = fields
        self._transport = transport
        self._url = join_url(resolve_base_url(PROVIDER, credential.config), "audio/transcriptions")
        self._unknown = UnknownMessages(PROVIDER)
        self.request_id = ""

    def _file(self, audio: bytes) -> tuple[str, str, bytes]:
        if self._options.audio.encoding is AudioEncoding.MP3:
            return "audio.mp3", "audio/mpeg", audio
        return "audio.wav", "audio/wav", wav_file(self._options.audio, audio)

    async def events(self, audio: bytes, offset: float) -> AsyncIterator[Transcript]:
        body, content_type = multipart_body(self._fields, *self._file(audio))
        end = offset + (self._options.audio.seconds_of(len(audio)) or 0.0)
        key = api_key_of(self._credential)
        headers = {**OPENAI.headers(self._credential), "Content-Type": content_type}
        async with open_event_stream(
            self._transport.http,
            self._url,
            provider=PROVIDER,
            timer=UpstreamTimer(),
            headers=headers,
            content=body,
            secrets=(key,),
            json_answer=True,
        ) as stream:
            self.request_id = request_id_of(stream.response.headers) or self.request_id
            text = ""
            async for event in stream.events:
                payload = _payload(event)
                kind = payload.get("type") if isinstance(payload, dict) else None
                if event.event == "error" or kind == "error" or _carries_error(payload):
                    raise stream_error(PROVIDER, payload, (key,))
                if event.event == JSON_ANSWER:
                    yield whole_transcript(payload, offset, end)
                    return
                if kind == "transcript.text.delta" and isinstance(payload, dict):
                    text += str(payload.get("delta") or "")
                    if self._options.interim_results and text:
                        yield Transcript(text, is_final=False, start=offset, end=end)
                elif kind == "transcript.text.done" and isinstance(payload, dict):
                    final = str(payload.get("text") or "")
                    yield Transcript(
                        final, is_final=True, end_of_utterance=True, start=offset, end=end
                    )
                    return
                elif event.data != "[DONE]":
                    self._unknown.note(str(kind or event.event))
        raise truncated(PROVIDER)


def whole_transcript(payload: object, offset: float, end: float) -> Transcript:
    """The final transcript of a JSON answer (`{"text"}`, or `verbose_json` with `words` and
    `duration`), its times made relative to the stream start.

    Raises:
        Unavailable: PROVIDER_BAD_RESPONSE for an answer without a `text`.
    """
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or not isinstance(text, str):
        raise Unavailable(
            f"{PROVIDER} answered a transcription without its text",
            reason=PROVIDER_BAD_RESPONSE,
            provider=PROVIDER,
        )
    raw_words = payload.get("words")
    words = tuple(
        Word(
            str(item.get("word") or ""),
            offset + _seconds(item, "start"),
            offset + _seconds(item, "end"),
        )
        for item in (raw_words if isinstance(raw_words, list) else ())
        if isinstance(item, dict)
    )
    duration = payload.get("duration")
    if isinstance(duration, (int, float)) and not isinstance(duration, bool) and duration >= 0:
        end = offset + float(duration)
    language = payload.get("language")
    return Transcript(
        text,
        is_final=True,
        end_of_utterance=True,
        start=offset,
        end=end,
        words=words,
        language=language if isinstance(language, str) else "",
    )


def _seconds(item: dict[str, object], name: str) -> float:
    value = item.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _payload(event: ServerSentEvent) -> object:
    if event.data == "[DONE]":
        return None
    try:
        return loads_answer(event.data)
    except ValueError:
        return None


def _carries_error(payload: object) -> bool:
    return isinstance(payload, dict) and "error" in payload and "type" not in payload
