"""Which object serves which speech capability for which provider id: one line per provider.

Adding a speech provider is its own module plus its line here (and its replay fixtures in the
conformance suite). A capability a provider lacks is None.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration_api.providers.assemblyai.streaming import AssemblyAITranscriber
from integration_api.providers.cartesia.stt import CartesiaTranscriber
from integration_api.providers.cartesia.tts import (
    CartesiaStreamSynthesizer,
    CartesiaSynthesizer,
)
from integration_api.providers.deepgram.listen import DeepgramTranscriber
from integration_api.providers.deepgram.speak import (
    DeepgramStreamSynthesizer,
    DeepgramSynthesizer,
)
from integration_api.providers.elevenlabs.scribe import ScribeTranscriber
from integration_api.providers.elevenlabs.speak import (
    ElevenLabsStreamSynthesizer,
    ElevenLabsSynthesizer,
)
from integration_api.providers.openai.speech import OpenAISynthesizer
from integration_api.providers.openai.transcription import OpenAITranscriber
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.speech.ports import StreamSynthesizer, Synthesizer, Transcriber


@dataclass(frozen=True)
class SpeechProvider:
    transcribe: Transcriber[SpeechTransport] | None = None
    synthesize: Synthesizer[SpeechTransport] | None = None
    synthesize_stream: StreamSynthesizer[SpeechTransport] | None = None


SPEECH_PROVIDERS: dict[str, SpeechProvider] = {
    "deepgram": SpeechProvider(
        DeepgramTranscriber(), DeepgramSynthesizer(), DeepgramStreamSynthesizer()
    ),
    "elevenlabs": SpeechProvider(
        ScribeTranscriber(), ElevenLabsSynthesizer(), ElevenLabsStreamSynthesizer()
    ),
    "assemblyai": SpeechProvider(transcribe=AssemblyAITranscriber()),
    "cartesia": SpeechProvider(
        CartesiaTranscriber(), CartesiaSynthesizer(), CartesiaStreamSynthesizer()
    ),
    # OpenAI has no streaming-input speech endpoint: SynthesizeStream is refused.
    "openai": SpeechProvider(OpenAITranscriber(), OpenAISynthesizer()),
}


def speech_provider_for(provider_id: str) -> SpeechProvider:
    """The provider's speech capabilities (all None when it offers no speech)."""
    return SPEECH_PROVIDERS.get(provider_id, SpeechProvider())
