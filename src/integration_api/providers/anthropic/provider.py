"""What Anthropic's folder serves: the Messages API and the credential check."""

from __future__ import annotations

from integration_api.providers.anthropic import chat, verification
from integration_api.providers.declaration import ProviderFolder, ProviderSpec

ANTHROPIC = ProviderSpec(
    id=verification.PROVIDER,
    verifier=verification.VERIFIER,
    check_config=chat.max_tokens_violations,
    chat=chat.ANTHROPIC,
    default_base_url="https://api.anthropic.com",
    hosts=("api.anthropic.com",),
)

FOLDER = ProviderFolder((ANTHROPIC,))
