"""What the OpenAI wire family's folder serves: OpenAI, Azure OpenAI, Mistral, Hugging Face and
any OpenAI-compatible server."""

from __future__ import annotations

from integration_api.credentials.model import ApiKey, AzureKey
from integration_api.providers.declaration import ProviderFolder, ProviderSpec, SpeechProvider
from integration_api.providers.openai import chat, embeddings, family
from integration_api.providers.openai.speech import OpenAISynthesizer
from integration_api.providers.openai.transcription import OpenAITranscriber

OPENAI = ProviderSpec(
    id=family.OPENAI.provider,
    verifier=family.OPENAI,
    chat=chat.OPENAI,
    embedding=embeddings.OPENAI,
    # OpenAI has no streaming-input speech endpoint: SynthesizeStream is refused.
    speech=SpeechProvider(OpenAITranscriber(), OpenAISynthesizer()),
    default_base_url="https://api.openai.com/v1",
    version_path="/v1",
    hosts=("api.openai.com", "*.api.openai.com"),
)

AZURE_OPENAI = ProviderSpec(
    id=family.AZURE_OPENAI.provider,
    verifier=family.AZURE_OPENAI,
    secret_kinds=frozenset({AzureKey.kind, ApiKey.kind}),
    required_config=("base_url",),
    chat=chat.AZURE_OPENAI,
    embedding=embeddings.AZURE_OPENAI,
    # Every name under these is an Azure AI resource Microsoft runs; which one is the
    # customer's is what the credential's own `base_url` says (see docs/threat-model.md).
    hosts=("*.openai.azure.com", "*.cognitiveservices.azure.com", "*.services.ai.azure.com"),
)

MISTRAL = ProviderSpec(
    id=family.MISTRAL.provider,
    verifier=family.MISTRAL,
    chat=chat.MISTRAL,
    embedding=embeddings.MISTRAL,
    default_base_url="https://api.mistral.ai/v1",
    version_path="/v1",
    hosts=("api.mistral.ai", "codestral.mistral.ai"),
)

HUGGINGFACE = ProviderSpec(
    id=family.HUGGINGFACE.provider,
    verifier=family.HUGGINGFACE,
    chat=chat.HUGGINGFACE,
    embedding=embeddings.HUGGINGFACE,
    default_base_url="https://router.huggingface.co",
    # Dedicated Inference Endpoints (`*.endpoints.huggingface.cloud`) belong to whoever created
    # them: each is allowed only by its own `EGRESS_ALLOW` entry.
    hosts=("router.huggingface.co", "huggingface.co", "api-inference.huggingface.co"),
)

OPENAI_COMPATIBLE = ProviderSpec(
    id=family.OPENAI_COMPATIBLE.provider,
    verifier=family.OPENAI_COMPATIBLE,
    required_config=("base_url",),
    key_optional=True,
    chat=chat.OPENAI_COMPATIBLE,
    embedding=embeddings.OPENAI_COMPATIBLE,
    any_host=True,
)

FOLDER = ProviderFolder((OPENAI, AZURE_OPENAI, MISTRAL, HUGGINGFACE, OPENAI_COMPATIBLE))
