"""ElevenLabs realtime transcription (Scribe): the `/v1/speech-to-text/realtime` WebSocket.

See: https://elevenlabs.io/docs/api-reference/speech-to-text/v-1-speech-to-text-realtime.
Audio goes base64 inside `input_audio_chunk` JSON messages. With manual commits a session
returns nothing for audio that was never committed, so the caller's finalize and the end of
its stream each send a `commit:true` chunk (the socket's end-of-input, sent on a cancel too);
the session ends once every commit is answered, by closing the socket (Scribe has no
end-of-stream message of its own). A commit is answered by `committed_transcript` and then,
since timestamps are asked for, by its `committed_transcript_with_timestamps` twin carrying
the words: the plain one is held until its twin replaces it. Errors are frames
`{"message_type":<kind>,"error":…}` sent before the close.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.elevenlabs.errors import classify_http, socket_error
from integration_api.providers.elevenlabs.verification import PROVIDER, elevenlabs_headers
from integration_api.providers.endpoints import resolve_base_url
from integration_api.providers.key_material import api_key_of
from integration_api.providers.speech_options import unsupported_option
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.providers.websocket import (
    Closed,
    Duplex,
    InputEnded,
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

DEFAULT_MODEL = "scribe_v2_realtime"
_PCM_RATES = (8000, 16000, 22050, 24000, 44100, 48000)
_TRANSCRIPTS = frozenset(
    {"partial_transcript", "committed_transcript", "committed_transcript_with_timestamps"}
)
# The silence Scribe's own commits (`commit_strategy=vad`) may wait for, in seconds.
_VAD_SILENCE = (0.3, 3.0)


def audio_format(audio: AudioFormat) -> str | None:
    if audio.encoding is AudioEncoding.LINEAR16 and audio.sample_rate_hz in _PCM_RATES:
        return f"pcm_{audio.sample_rate_hz}"
    if audio.encoding is AudioEncoding.MULAW and audio.sample_rate_hz == 8000:
        return "ulaw_8000"
    return None


def commit_message(sample_rate: int) -> dict[str, object]:
    """A commit: the audio sent since the last one is transcribed now."""
    return {
        "message_type": "input_audio_chunk",
        "audio_base_64": "",
        "commit": True,
        "sample_rate": sample_rate,
    }


def check_options(options: TranscriptionOptions) -> None:
    """Refuses what Scribe's realtime socket has no parameter for (see the README's table)."""
    if options.diarize:
        raise unsupported_option(
            "config.diarize", PROVIDER, "realtime transcription does not label speakers"
        )
    silence = options.endpointing_seconds
    if silence is not None and not _VAD_SILENCE[0] <= silence <= _VAD_SILENCE[1]:
        raise unsupported_option(
            "config.endpointing", PROVIDER, "ends utterances after 0.3 to 3 seconds of silence"
        )


def scribe_params(options: TranscriptionOptions, model: str) -> list[tuple[str, str]]:
    params = [
        ("model_id", model),
        ("audio_format", str(audio_format(options.audio))),
        ("include_timestamps", "true"),
    ]
    if options.endpointing_seconds is not None:
        # Scribe commits on its own after this much silence.
        silence = options.endpointing_seconds
        params += [("commit_strategy", "vad"), ("vad_silence_threshold_secs", f"{silence:g}")]
    else:
        params.append(("commit_strategy", "manual"))
    language = options.language.split("-")[0]
    if language:  # ISO 639 (`en`), not a BCP-47 tag
        params.append(("language_code", language))
    params.extend(("keyterms", term) for term in options.keyterms)
    return params


class ScribeTranscriber:
    provider = PROVIDER

    def format_problem(self, audio: AudioFormat) -> str | None:
        if audio_format(audio) is None:
            return (
                f"elevenlabs cannot transcribe {audio.encoding.value} at {audio.sample_rate_hz} Hz "
                "(linear16 8000-48000, mulaw 8000)"
            )
        return None

    async def transcribe(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[TranscriptEvent, None]:
        check_options(options)
        model = options.model or credential.config.default_model or DEFAULT_MODEL
        base = resolve_base_url(PROVIDER, credential.config)
        url = socket_url(base, "v1/speech-to-text/realtime", scribe_params(options, model))
        key = api_key_of(credential)
        async with transport.sockets.connect(
            url,
            provider=PROVIDER,
            headers=elevenlabs_headers(credential),
            secrets=(key,),
            classify_error=classify_http,
            end_of_input=commit_message(options.audio.sample_rate_hz),
        ) as socket:
            session = ScribeSession(socket, inputs, options, timestamps=True)
            async for event in session.events():
                yield event


class ScribeSession:
    """One socket's exchange: audio and commits out, each commit's answer read back."""

    def __init__(
        self,
        socket: ProviderSocket,
        inputs: AsyncIterator[TranscribeInput],
        options: TranscriptionOptions,
        *,
        timestamps: bool,
    ) -> None:
        self._socket = socket
        self._inputs = inputs
        self._rate = options.audio.sample_rate_hz
        self._interim = options.interim_results
        # Whether each commit's plain answer is followed by its timed twin.
        self._timestamps = timestamps
        self._session_id = ""
        self._audio_since_commit = False
        # How many answers the commits sent so far need (Scribe's own commits answer too).
        self._answers_needed = 0
        self._answers = 0
        self._input_ended = False
        self._held: Transcript | None = None
        self._unknown = UnknownMessages(PROVIDER)

    async def _chunk(self, data: bytes) -> None:
        await self._socket.send_json(
            {
                "message_type": "input_audio_chunk",
                "audio_base_64": base64.b64encode(data).decode("ascii"),
                "commit": False,
                "sample_rate": self._rate,
            }
        )

    def _committing(self) -> bool:
        """Counts a commit about to go out; False when it would commit nothing (and a commit
        without new audio is never answered)."""
        if not self._audio_since_commit:
            return False
        self._audio_since_commit = False
        self._answers_needed = max(self._answers_needed, self._answers) + 1
        return True

    async def _send(self) -> None:
        async for item in self._inputs:
            if isinstance(item, AudioInput):
                if item.data:
                    self._audio_since_commit = True
                    await self._chunk(item.data)
            elif self._committing():
                await self._socket.send_json(commit_message(self._rate))
        if self._committing():
            await self._socket.send_end_of_input()  # the last commit, sent once
        else:
            self._socket.abandon()  # every chunk was committed: nothing left to end
        self._input_ended = True

    def _complete(self) -> bool:
        return self._input_ended and self._held is None and self._answers >= self._answers_needed

    async def events(self) -> AsyncIterator[TranscriptEvent]:
        async for message in Duplex(self._socket, self._send).messages():
            if isinstance(message, Text):
                for event in self._read(message):
                    yield event
            elif isinstance(message, Closed):
                raise closed_before_the_end(PROVIDER, message)
            if isinstance(message, (Text, InputEnded)) and self._complete():
                yield TranscriptionMetadata(PROVIDER, provider_request_id=self._session_id)
                return

    def _read(self, message: Text) -> list[TranscriptEvent]:
        body = message.json()
        kind = body.get("message_type") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(kind, str):
            self._unknown.note("not a JSON object with a message_type")
            return []
        if "error" in body:
            raise socket_error(kind[:64], self._socket.sanitized(str(body.get("error") or "")))
        if kind == "session_started":
            self._session_id = str(body.get("session_id") or "")[:128]
            return []
        if kind not in _TRANSCRIPTS:
            self._unknown.note(kind)
            return []
        return self._transcript(kind, body)

    def _transcript(self, kind: str, body: Mapping[str, Any]) -> list[TranscriptEvent]:
        if kind == "committed_transcript_with_timestamps":
            if self._held is None:
                self._answers += 1  # a twin without its plain commit: the answer itself
            self._held = None
            return [timed_transcript(body)]
        # Anything else after a plain commit means its twin is not coming: it is the answer.
        events: list[TranscriptEvent] = [self._held] if self._held is not None else []
        self._held = None
        text = str(body.get("text") or "")
        if kind == "partial_transcript":
            if text and self._interim:
                events.append(Transcript(text=text, is_final=False))
            return events
        self._answers += 1
        plain = Transcript(text=text, is_final=True, end_of_utterance=True)
        if self._timestamps:
            self._held = plain  # its timed twin follows and replaces it
            self._socket.expect_more()
        else:
            events.append(plain)
        return events


def timed_transcript(body: Mapping[str, Any]) -> Transcript:
    raw_words = body.get("words") if isinstance(body.get("words"), list) else []
    words = tuple(
        Word(
            text=str(item.get("text") or ""),
            start=_number(item.get("start")),
            end=_number(item.get("end")),
            speaker=str(item.get("speaker_id") or ""),
        )
        for item in raw_words or ()
        if isinstance(item, dict) and item.get("type", "word") == "word"
    )
    return Transcript(
        text=str(body.get("text") or ""),
        is_final=True,
        end_of_utterance=True,
        start=words[0].start if words else 0.0,
        end=words[-1].end if words else 0.0,
        words=words,
        language=str(body.get("language_code") or ""),
    )


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
