"""What Replicate's folder serves: chat through streaming predictions, and the key check."""

from __future__ import annotations

from integration_api.providers.declaration import ProviderFolder, ProviderSpec
from integration_api.providers.replicate import chat, verification

REPLICATE = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    chat=chat.REPLICATE,
    default_base_url="https://api.replicate.com",
    # Predictions stream from hosts of their own, named in each prediction's `urls.stream`.
    hosts=("api.replicate.com", "stream.replicate.com", "*.replicate.delivery", "*.replicate.net"),
)

FOLDER = ProviderFolder((REPLICATE,))
