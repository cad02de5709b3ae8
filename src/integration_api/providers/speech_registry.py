"""Which object serves which speech capability for which provider id.

Each provider folder declares its speech capabilities (`ProviderSpec.speech`) and the registry
lists the folders; adding a speech provider is its folder, its registry line and its replay
fixtures in the conformance suite. A capability a provider lacks is None.
"""

from __future__ import annotations

from integration_api.providers.declaration import SpeechProvider as SpeechProvider
from integration_api.providers.registry import PROVIDERS

SPEECH_PROVIDERS: dict[str, SpeechProvider] = {
    spec.id: spec.speech for spec in PROVIDERS.values() if spec.speech.offers_any
}


def speech_provider_for(provider_id: str) -> SpeechProvider:
    """The provider's speech capabilities (all None when it offers no speech)."""
    return SPEECH_PROVIDERS.get(provider_id, SpeechProvider())
