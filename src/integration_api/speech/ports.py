"""The speech capabilities a provider module can offer, one Protocol each.

A provider implements only what it supports; `providers/speech_registry.py` says which object
serves which capability for which provider id. Each session receives a `SpeechTransport` (the
process-wide HTTP client and WebSocket client), so tests hand in ones that reach local servers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.websocket import WebSocketClient
from integration_api.speech.contract import (
    AudioFormat,
    SynthesisEvent,
    SynthesisInput,
    SynthesisOptions,
    TranscribeInput,
    TranscriptEvent,
    TranscriptionOptions,
)


@dataclass(frozen=True)
class SpeechTransport:
    """What a provider session may use to reach its provider."""

    http: ProviderClient
    sockets: WebSocketClient
    # How long a caller may be silent before the provider session gets a keep-alive.
    keepalive_seconds: float


class FormatSupport(Protocol):
    @property
    def provider(self) -> str: ...

    def format_problem(self, audio: AudioFormat) -> str | None:
        """Why this provider cannot take or produce `audio` ('' fields named), or None."""
        ...


class Transcriber(FormatSupport, Protocol):
    """Transcribes a live audio stream."""

    def transcribe(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[TranscriptEvent, None]:
        """Transcripts as they come, ending with exactly one `TranscriptionMetadata`.

        The end of `inputs` is the end of the audio: the provider's end-of-input message is sent
        and its remaining results read. Raises the typed error that ended the session instead.
        """
        ...


class Synthesizer(FormatSupport, Protocol):
    """Synthesizes one text, streaming the audio as it is produced."""

    def synthesize(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        text: str,
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio (and alignment where the provider gives it), ending with one `SynthesisDone`."""
        ...


class StreamSynthesizer(FormatSupport, Protocol):
    """Synthesizes text that arrives in fragments, with flush and clear."""

    def synthesize_stream(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        inputs: AsyncIterator[SynthesisInput],
        transport: SpeechTransport,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio, alignment, `Flushed` and `Cleared` as they come, then one `SynthesisDone`."""
        ...
