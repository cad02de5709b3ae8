"""What Cohere's folder serves: chat, embeddings, rerank and the key check."""

from __future__ import annotations

from integration_api.providers.cohere import chat, embeddings, rerank, verification
from integration_api.providers.declaration import ProviderFolder, ProviderSpec

COHERE = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    chat=chat.COHERE,
    embedding=embeddings.COHERE,
    rerank=rerank.COHERE,
    default_base_url="https://api.cohere.com",
    hosts=("api.cohere.com", "api.cohere.ai"),
)

FOLDER = ProviderFolder((COHERE,))
