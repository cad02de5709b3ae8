"""What AssemblyAI's folder serves: Universal Streaming speech-to-text and the key check."""

from __future__ import annotations

from integration_api.providers.assemblyai import verification
from integration_api.providers.assemblyai.streaming import AssemblyAITranscriber
from integration_api.providers.declaration import ProviderFolder, ProviderSpec, SpeechProvider

ASSEMBLYAI = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    speech=SpeechProvider(transcribe=AssemblyAITranscriber()),
    default_base_url="https://api.assemblyai.com",
    hosts=(
        "api.assemblyai.com",
        "api.eu.assemblyai.com",
        "streaming.assemblyai.com",
        "streaming.eu.assemblyai.com",
    ),
)

FOLDER = ProviderFolder((ASSEMBLYAI,))
