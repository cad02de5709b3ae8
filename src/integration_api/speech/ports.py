"""The speech capabilities a provider module can offer, one Protocol each.

A provider implements only what it supports; `providers/speech_registry.py` says which object
serves which capability for which provider id. Each session receives the transport its provider
reaches the network with (`providers.speech_transport.SpeechTransport`: the process-wide HTTP
and WebSocket clients), so tests hand in ones that reach local servers. The pipeline only passes
it on: the ports are generic in it, and the speech package never imports the providers.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Protocol, TypeVar

from integration_api.credentials.model import ProviderCredential
from integration_api.speech.contract import (
    AudioFormat,
    SynthesisEvent,
    SynthesisInput,
    SynthesisOptions,
    TranscribeInput,
    TranscriptEvent,
    TranscriptionOptions,
)

# What a session reaches its provider with; a capability only takes it, hence contravariant.
TransportT_contra = TypeVar("TransportT_contra", contravariant=True)


class FormatSupport(Protocol):
    @property
    def provider(self) -> str: ...

    def format_problem(self, audio: AudioFormat) -> str | None:
        """Why this provider cannot take or produce `audio` ('' fields named), or None."""
        ...


class Transcriber(FormatSupport, Protocol[TransportT_contra]):
    """Transcribes a live audio stream."""

    def transcribe(
        self,
        credential: ProviderCredential,
        options: TranscriptionOptions,
        inputs: AsyncIterator[TranscribeInput],
        transport: TransportT_contra,
    ) -> AsyncGenerator[TranscriptEvent, None]:
        """Transcripts as they come, ending with exactly one `TranscriptionMetadata`.

        The end of `inputs` is the end of the audio: the provider's end-of-input message is sent
        and its remaining results read. Raises the typed error that ended the session instead.
        """
        ...


class Synthesizer(FormatSupport, Protocol[TransportT_contra]):
    """Synthesizes one text, streaming the audio as it is produced."""

    def synthesize(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        text: str,
        transport: TransportT_contra,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio (and alignment where the provider gives it), ending with one `SynthesisDone`."""
        ...


class StreamSynthesizer(FormatSupport, Protocol[TransportT_contra]):
    """Synthesizes text that arrives in fragments, with flush and clear."""

    def synthesize_stream(
        self,
        credential: ProviderCredential,
        options: SynthesisOptions,
        inputs: AsyncIterator[SynthesisInput],
        transport: TransportT_contra,
    ) -> AsyncGenerator[SynthesisEvent, None]:
        """Audio, alignment, `Flushed` and `Cleared` as they come, then one `SynthesisDone`."""
        ...
