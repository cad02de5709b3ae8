"""What ElevenLabs' folder serves: Scribe speech-to-text, text-to-speech and the key check."""

from __future__ import annotations

from integration_api.providers.declaration import ProviderFolder, ProviderSpec, SpeechProvider
from integration_api.providers.elevenlabs import verification
from integration_api.providers.elevenlabs.scribe import ScribeTranscriber
from integration_api.providers.elevenlabs.speak import (
    ElevenLabsStreamSynthesizer,
    ElevenLabsSynthesizer,
)

ELEVENLABS = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    speech=SpeechProvider(
        ScribeTranscriber(), ElevenLabsSynthesizer(), ElevenLabsStreamSynthesizer()
    ),
    default_base_url="https://api.elevenlabs.io",
    hosts=("api.elevenlabs.io", "*.elevenlabs.io"),
)

FOLDER = ProviderFolder((ELEVENLABS,))
