"""Deepgram live transcription: the `/v1/listen` WebSocket.

See: https://developers.deepgram.com/reference/speech-to-text-api/listen-streaming.
Audio goes as binary frames; `{"type":"KeepAlive"}` (a text frame) while the caller is silent,
since Deepgram closes a socket idle for 10 s (1011 NET-0001); `{"type":"Finalize"}` at the
caller's end of turn; `{"type":"CloseStream"}` ends the input (never an empty binary frame),
after which the last `Results`, a `Metadata` and close 1000 follow. Errors arrive as a close
code with a reason (`DATA-0000`, `NET-0000`), or as an `Error` message in newer versions.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument, ServiceError
from integration_api.providers.deepgram.errors import classify_http, stream_error
from integration_api.providers.deepgram.verification import PROVIDER, deepgram_headers
from integration_api.providers.endpoints import resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.websocket import (
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
    AudioEncoding,
    AudioFormat,
    AudioInput,
    SpeechStarted,
    TranscribeInput,
    Transcript,
    TranscriptEvent,
    TranscriptionMetadata,
    TranscriptionOptions,
    UtteranceEnd,
    Word,
)
from integration_api.upstream.stream_errors import truncated

DEFAULT_MODEL = "nova-3"
_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
CLOSE_STREAM = {"type": "CloseStream"}
ENCODINGS = {
    AudioEncoding.LINEAR16: "linear16",
    AudioEncoding.MULAW: "mulaw",
    AudioEncoding.ALAW: "alaw",
    AudioEncoding.OPUS: "opus",
}


def listen_params(options: TranscriptionOptions, model: str) -> list[tuple[str, str]]:
    params = [
        ("model", model),
        ("encoding", ENCODINGS[options.audio.encoding]),
        ("sample_rate", str(options.audio.sample_rate_hz)),
        ("channels", "1"),
        ("interim_results", _flag(options.interim_results)),
        ("punctuate", _flag(options.punctuate)),
        ("diarize", _flag(options.diarize)),
        ("vad_events", "true"),
    ]
    if options.language:
        params.append(("language", options.language))
    if options.endpointing_seconds is not None:
        params.append(("endpointing", str(round(options.endpointing_seconds * 1000))))
    params.extend(("keyterm", term) for term in options.keyterms)
    return params


def _flag(value: bool) -> str:
    return "true" if value else "false"


class DeepgramTranscriber:
    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        if audio.encoding not in ENCODINGS:
            return f"deepgram cannot transcribe {audio.encoding.value}"
        return None

    async def transcribe(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[TranscriptEvent, None]:
        model = options.model or credential.config.default_model or DEFAULT_MODEL
        base = resolve_base_url(PROVIDER, credential.config)
        url = socket_url(base, "v1/listen", listen_params(options, model))
        key = api_key_of(credential)
        async with transport.sockets.connect(
            url,
            provider=PROVIDER,
            headers=deepgram_headers(credential),
            secrets=(key,),
            end_of_input=CLOSE_STREAM,
            classify_error=classify_http,
        ) as socket:
            session = _ListenSession(
                socket, inputs, transport.keepalive_seconds, interim=options.interim_results
            )
            async for event in session.events():
                yield event


class _ListenSession:
    def __init__(
        self,
        socket: ProviderSocket,
        inputs: AsyncIterator[TranscribeInput],
        keepalive: float,
        *,
        interim: bool,
    ) -> None:
        self._socket = socket
        self._inputs = inputs
        self._keepalive = keepalive
        self._request_id = socket.response_headers.get("dg-request-id", "")
        self._duration: float | None = None
        self._metadata_seen = False
        # Interim results reach the caller only when asked for (as Deepgram was asked).
        self._interim = interim
        self._unknown = UnknownMessages(PROVIDER)

    async def _send(self) -> None:
        async for item in with_idle_ticks(self._inputs, self._keepalive):
            if isinstance(item, Idle):
                await self._socket.send_json({"type": "KeepAlive"}, keepalive=True)
            elif isinstance(item, AudioInput):
                if item.data:  # an empty frame would mean the deprecated end of stream
                    await self._socket.send_bytes(item.data)
            else:
                await self._socket.send_json({"type": "Finalize"})
        await self._socket.send_end_of_input()

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        async for message in Duplex(self._socket, self._send).messages():
            if isinstance(message, Text):
                event = self._read(message)
                if event is not None:
                    yield event
            elif isinstance(message, Closed):
                yield self._finish(message)

    def _read(self, message: Text) -> TranscriptEvent | None:
        body = message.json()
        kind = body.get("type") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(kind, str):
            self._unknown.note("not a JSON object with a type")
            return None
        if kind == "Results":
            transcript = transcript_of(body)
            if transcript is not None and not transcript.is_final and not self._interim:
                return None
            return transcript
        if kind == "UtteranceEnd":
            return UtteranceEnd(last_word_end=_number(body.get("last_word_end")))
        if kind == "SpeechStarted":
            return SpeechStarted(at=_number(body.get("timestamp")))
        if kind == "Metadata":
            self._metadata_seen = True
            self._request_id = str(body.get("request_id") or self._request_id)
            duration = body.get("duration")
            self._duration = float(duration) if isinstance(duration, (int, float)) else None
            return None
        if kind == "Error":
            raise self._error_message(body)
        self._unknown.note(kind)
        return None

    def _finish(self, closed: Closed) -> TranscriptionMetadata:
        if not closed.normal:
            raise close_error(closed)
        if not self._metadata_seen:
            raise truncated(PROVIDER)
        return TranscriptionMetadata(
            provider=PROVIDER, provider_request_id=self._request_id, audio_duration=self._duration
        )

    def _error_message(self, body: Mapping[str, Any]) -> ServiceError:
        code = str(body.get("err_code") or body.get("code") or body.get("category") or "")
        text = self._socket.sanitized(str(body.get("description") or body.get("message") or ""))
        message = f"deepgram reported an error: {text}" if text else "deepgram reported an error"
        return stream_error(sanitize_code(code), message)


def close_error(closed: Closed) -> ServiceError:
    """A Deepgram close other than 1000: `DATA-0000` (undecodable audio) is the caller's."""
    code = closed.error_code
    error: ServiceError
    if code.startswith("DATA-"):
        error = InvalidArgument(
            f"deepgram could not decode the audio (WebSocket close {closed.code} {code})",
            reason="PROVIDER_REJECTED_AUDIO",
            provider=PROVIDER,
        )
        error.metadata["provider_close_code"] = str(closed.code)
    elif code and not code.startswith("NET-"):
        error = stream_error(code, abnormal_close(PROVIDER, closed).message)
        error.metadata["provider_close_code"] = str(closed.code)
    else:
        error = abnormal_close(PROVIDER, closed)
    if code:
        error.metadata["provider_error_type"] = code
    return error


def sanitize_code(code: str) -> str:
    """A provider's error code as metadata: a short code, never free text."""
    return code[:64] if _CODE.fullmatch(code[:64]) else ""


def transcript_of(body: Mapping[str, Any]) -> Transcript | None:
    """A `Results` message; None for an empty interim (near-silence says nothing)."""
    channel = body.get("channel")
    alternatives = channel.get("alternatives") if isinstance(channel, dict) else None
    best = alternatives[0] if isinstance(alternatives, list) and alternatives else {}
    if not isinstance(best, dict):
        best = {}
    text = str(best.get("transcript") or "")
    is_final = body.get("is_final") is True
    speech_final = body.get("speech_final") is True
    if not text and not speech_final:
        return None
    start = _number(body.get("start"))
    languages = best.get("languages")
    return Transcript(
        text=text,
        is_final=is_final,
        end_of_utterance=speech_final,
        start=start,
        end=start + _number(body.get("duration")),
        confidence=_number(best.get("confidence")),
        words=tuple(_word(item) for item in best.get("words") or () if isinstance(item, dict)),
        language=str(languages[0]) if isinstance(languages, list) and languages else "",
    )


def _word(item: Mapping[str, Any]) -> Word:
    speaker = item.get("speaker")
    return Word(
        text=str(item.get("punctuated_word") or item.get("word") or ""),
        start=_number(item.get("start")),
        end=_number(item.get("end")),
        confidence=_number(item.get("confidence")),
        speaker="" if speaker is None else str(speaker),
    )


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
