"""The normalized speech contract: what goes into a provider session and what comes out.

Times are seconds from the start of the stream (the audio sent for transcription, the audio
produced for synthesis), converted once by each provider module; audio is raw, without
containers. The converters are the only code that knows both these types and the messages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class AudioEncoding(enum.Enum):
    LINEAR16 = "linear16"
    MULAW = "mulaw"
    ALAW = "alaw"
    OPUS = "opus"
    MP3 = "mp3"

    @property
    def bytes_per_sample(self) -> int | None:
        """Bytes per sample of an uncompressed encoding (None: compressed)."""
        return {AudioEncoding.LINEAR16: 2, AudioEncoding.MULAW: 1, AudioEncoding.ALAW: 1}.get(self)


@dataclass(frozen=True)
class AudioFormat:
    encoding: AudioEncoding
    sample_rate_hz: int

    def seconds_of(self, byte_count: int) -> float | None:
        """How long `byte_count` bytes of this audio play (None for compressed audio)."""
        width = self.encoding.bytes_per_sample
        if width is None or self.sample_rate_hz <= 0:
            return None
        return byte_count / (width * self.sample_rate_hz)


# ---- speech-to-text ------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptionOptions:
    credential_id: str
    model: str
    language: str
    audio: AudioFormat
    interim_results: bool = False
    endpointing_seconds: float | None = None
    keyterms: tuple[str, ...] = ()
    diarize: bool = False
    punctuate: bool = False
    # Set instead of `credential_id` when the call goes through a stored route.
    route_id: str = ""


@dataclass(frozen=True)
class AudioInput:
    data: bytes


@dataclass(frozen=True)
class FinalizeInput:
    """Transcribe the audio held so far now (the caller's own end of turn)."""


TranscribeInput = AudioInput | FinalizeInput


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    confidence: float = 0.0
    speaker: str = ""


@dataclass(frozen=True)
class Transcript:
    text: str
    is_final: bool
    end_of_utterance: bool = False
    start: float = 0.0
    end: float = 0.0
    confidence: float = 0.0
    words: tuple[Word, ...] = ()
    language: str = ""


@dataclass(frozen=True)
class SpeechStarted:
    at: float


@dataclass(frozen=True)
class UtteranceEnd:
    last_word_end: float


@dataclass(frozen=True)
class TranscriptionMetadata:
    """The provider's own end of stream: the last event of every complete transcription."""

    provider: str
    provider_request_id: str = ""
    audio_duration: float | None = None
    audio_bytes: int = 0


TranscriptEvent = Transcript | SpeechStarted | UtteranceEnd | TranscriptionMetadata


# ---- text-to-speech ------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthesisOptions:
    credential_id: str
    model: str
    voice: str
    audio: AudioFormat
    language: str = ""
    # Set instead of `credential_id` when the call goes through a stored route.
    route_id: str = ""


@dataclass(frozen=True)
class TextInput:
    text: str


@dataclass(frozen=True)
class FlushInput:
    """Speak what was sent so far."""


@dataclass(frozen=True)
class ClearInput:
    """Barge-in: drop unspoken text and undelivered audio."""


SynthesisInput = TextInput | FlushInput | ClearInput


@dataclass(frozen=True)
class AudioChunk:
    data: bytes


class AlignmentUnit(enum.Enum):
    CHARACTER = "character"
    WORD = "word"


@dataclass(frozen=True)
class AlignedText:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Alignment:
    unit: AlignmentUnit
    items: tuple[AlignedText, ...]


@dataclass(frozen=True)
class Flushed:
    """Every chunk for the text before the matching flush has been delivered."""


@dataclass(frozen=True)
class Cleared:
    """Queued audio was dropped; what follows belongs to text sent after the clear."""


@dataclass(frozen=True)
class SynthesisDone:
    """The provider's own end of synthesis: the last event of every complete synthesis."""

    provider: str
    provider_request_id: str = ""
    characters: int = 0
    audio_bytes: int = 0
    time_to_first_audio: float | None = None
    duration: float | None = None


SynthesisEvent = AudioChunk | Alignment | Flushed | Cleared | SynthesisDone
