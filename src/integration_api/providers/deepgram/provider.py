"""What Deepgram's folder serves: speech-to-text, text-to-speech and the key check."""

from __future__ import annotations

from integration_api.providers.declaration import ProviderFolder, ProviderSpec, SpeechProvider
from integration_api.providers.deepgram import verification
from integration_api.providers.deepgram.listen import DeepgramTranscriber
from integration_api.providers.deepgram.speak import DeepgramStreamSynthesizer, DeepgramSynthesizer

DEEPGRAM = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    speech=SpeechProvider(
        DeepgramTranscriber(), DeepgramSynthesizer(), DeepgramStreamSynthesizer()
    ),
    default_base_url="https://api.deepgram.com",
    hosts=("api.deepgram.com", "api.eu.deepgram.com"),
)

FOLDER = ProviderFolder((DEEPGRAM,))
