"""What Voyage AI's folder serves: embeddings, rerank and the key check."""

from __future__ import annotations

from integration_api.providers.declaration import ProviderFolder, ProviderSpec
from integration_api.providers.voyage import embeddings, rerank, verification

VOYAGE = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    embedding=embeddings.VOYAGE,
    rerank=rerank.VOYAGE,
    default_base_url="https://api.voyageai.com/v1",
    version_path="/v1",
    hosts=("api.voyageai.com",),
)

FOLDER = ProviderFolder((VOYAGE,))
