"""What Cartesia's folder serves: speech-to-text, text-to-speech and the key check."""

from __future__ import annotations

from integration_api.providers.cartesia import verification
from integration_api.providers.cartesia.stt import CartesiaTranscriber
from integration_api.providers.cartesia.tts import CartesiaStreamSynthesizer, CartesiaSynthesizer
from integration_api.providers.declaration import ProviderFolder, ProviderSpec, SpeechProvider

CARTESIA = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    check_config=verification.version_violations,
    speech=SpeechProvider(
        CartesiaTranscriber(), CartesiaSynthesizer(), CartesiaStreamSynthesizer()
    ),
    default_base_url="https://api.cartesia.ai",
    hosts=("api.cartesia.ai",),
)

FOLDER = ProviderFolder((CARTESIA,))
