"""What a provider's speech session may use to reach its provider."""

from __future__ import annotations

from dataclasses import dataclass

from integration_api.providers.http_client import ProviderClient
from integration_api.providers.websocket import WebSocketClient


@dataclass(frozen=True)
class SpeechTransport:
    """What a provider session may use to reach its provider."""

    http: ProviderClient
    sockets: WebSocketClient
    # How long a caller may be silent before the provider session gets a keep-alive.
    keepalive_seconds: float
