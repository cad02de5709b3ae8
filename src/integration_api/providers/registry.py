"""Every provider the service can call, in one explicit table.

Adding a provider is its own module plus one line here. `check_credential` is what the API
layer runs before a credential is stored: the right kind of secret, the config fields the
provider needs, a usable base URL and region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    CredentialConfig,
    ExotelAccount,
    GcpServiceAccount,
    PlivoAccount,
    SecretMaterial,
    TelnyxAccount,
    TwilioAccount,
    VonageAccount,
)
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.providers.anthropic import chat as anthropic_chat
from integration_api.providers.anthropic import verification as anthropic_verification
from integration_api.providers.assemblyai import verification as assemblyai
from integration_api.providers.aws import chat as bedrock_chat
from integration_api.providers.aws import embeddings as bedrock_embeddings
from integration_api.providers.aws import rerank as bedrock_rerank
from integration_api.providers.aws import verification as bedrock
from integration_api.providers.base import (
    ChatModel,
    CredentialVerifier,
    EmbeddingModel,
    RerankModel,
)
from integration_api.providers.cartesia import verification as cartesia
from integration_api.providers.cohere import chat as cohere_chat
from integration_api.providers.cohere import embeddings as cohere_embeddings
from integration_api.providers.cohere import rerank as cohere_rerank
from integration_api.providers.cohere import verification as cohere
from integration_api.providers.deepgram import verification as deepgram
from integration_api.providers.elevenlabs import verification as elevenlabs
from integration_api.providers.endpoints import (
    BASE_URL_FIELD,
    REGION_FIELD,
    validate_base_url,
    validate_region,
)
from integration_api.providers.exotel import account as exotel_account
from integration_api.providers.exotel import verification as exotel
from integration_api.providers.google import chat as google_chat
from integration_api.providers.google import embeddings as google_embeddings
from integration_api.providers.google import gemini, vertex
from integration_api.providers.google.service_account import service_account_violations
from integration_api.providers.key_material import SECRET_FIELD
from integration_api.providers.openai import chat as openai_chat
from integration_api.providers.openai import embeddings as openai_embeddings
from integration_api.providers.openai import family as openai_family
from integration_api.providers.plivo import account as plivo_account
from integration_api.providers.plivo import verification as plivo
from integration_api.providers.replicate import chat as replicate_chat
from integration_api.providers.replicate import verification as replicate
from integration_api.providers.telnyx import account as telnyx_account
from integration_api.providers.telnyx import verification as telnyx
from integration_api.providers.twilio import account as twilio_account
from integration_api.providers.twilio import verification as twilio
from integration_api.providers.vonage import account as vonage_account
from integration_api.providers.vonage import verification as vonage
from integration_api.providers.voyage import embeddings as voyage_embeddings
from integration_api.providers.voyage import rerank as voyage_rerank
from integration_api.providers.voyage import verification as voyageai
from integration_api.request_caps import MAX_API_VERSION_CHARACTERS, MAX_MODEL_CHARACTERS

PROVIDER_FIELD = "provider"

SecretCheck = Callable[[SecretMaterial], list[FieldViolation]]
ConfigCheck = Callable[[CredentialConfig], list[FieldViolation]]


@dataclass(frozen=True)
class ProviderSpec:
    """What the service knows about one provider: its secrets, its config and its verifier.

    Attributes:
        secret_kinds: the `kind` values of the secret classes it accepts.
        required_config: `CredentialConfig` fields that must not be empty.
        key_optional: an empty API key is allowed (self-hosted servers without auth).
        check_secret: further checks of the secret (a service-account key file's fields).
        check_config: further checks of the config (a provider's `extra` settings).
        chat: streams chat answers, when the provider offers chat.
        embedding: embeds texts, when the provider offers embeddings.
        rerank: ranks documents against a query, when the provider offers reranking.
        telephony: what TelephonyService does with its credentials: `webhook` (signatures
            checked by ValidateWebhook), `call` (PlaceCall and the calls it places).
    """

    id: str
    secret_kinds: frozenset[str]
    required_config: tuple[str, ...]
    verifier: CredentialVerifier
    key_optional: bool = False
    check_secret: SecretCheck | None = None
    check_config: ConfigCheck | None = None
    chat: ChatModel | None = None
    embedding: EmbeddingModel | None = None
    rerank: RerankModel | None = None
    telephony: tuple[str, ...] = ()

    def violations(self, config: CredentialConfig, secret: SecretMaterial) -> list[FieldViolation]:
        """Everything wrong with a credential for this provider (empty when it can be stored)."""
        problems: list[FieldViolation] = []
        if secret.kind not in self.secret_kinds:
            kinds = ", ".join(sorted(self.secret_kinds))
            problems.append(FieldViolation(SECRET_FIELD, f"{self.id} accepts: {kinds}"))
        elif self.check_secret is not None:
            problems.extend(self.check_secret(secret))
        elif not self.key_optional and _is_empty_key(secret):
            problems.append(FieldViolation(SECRET_FIELD, "the API key is empty"))
        problems.extend(self.config_violations(config))
        return problems

    def config_violations(self, config: CredentialConfig) -> list[FieldViolation]:
        """Everything wrong with a config for this provider, whatever the secret."""
        problems = [
            FieldViolation(f"config.{name}", f"is required for {self.id}")
            for name in self.required_config
            if not str(getattr(config, name)).strip()
        ]
        problems.extend(_config_violations(self.id, config))
        if self.check_config is not None:
            problems.extend(self.check_config(config))
        return problems


def _is_empty_key(secret: SecretMaterial) -> bool:
    if isinstance(secret, ApiKey):
        return not secret.key
    if isinstance(secret, AzureKey):
        return not secret.api_key
    if isinstance(secret, AwsKeys):
        return not (secret.access_key_id and secret.secret_access_key)
    return False


def _config_violations(provider: str, config: CredentialConfig) -> list[FieldViolation]:
    problems: list[FieldViolation] = []
    if config.base_url.strip():
        problem = validate_base_url(config.base_url.strip())
        if problem is not None:
            problems.append(FieldViolation(BASE_URL_FIELD, problem))
    if config.region:
        problem = validate_region(config.region, provider)
        if problem is not None:
            problems.append(FieldViolation(REGION_FIELD, problem))
    # Each may end in a URL: a model or deployment in the path, the API version in the query.
    for name, limit in _CONFIG_NAME_LIMITS.items():
        if len(getattr(config, name)) > limit:
            problems.append(FieldViolation(f"config.{name}", f"must be at most {limit} characters"))
    return problems


_CONFIG_NAME_LIMITS = {
    "default_model": MAX_MODEL_CHARACTERS,
    "deployment": MAX_MODEL_CHARACTERS,
    "api_version": MAX_API_VERSION_CHARACTERS,
}


def _check_service_account(secret: SecretMaterial) -> list[FieldViolation]:
    if isinstance(secret, GcpServiceAccount):
        return service_account_violations(secret)
    return []


_API_KEY = frozenset({ApiKey.kind})


def _api_key_provider(
    provider_id: str,
    verifier: CredentialVerifier,
    chat: ChatModel | None = None,
    embedding: EmbeddingModel | None = None,
    rerank: RerankModel | None = None,
) -> ProviderSpec:
    return ProviderSpec(
        provider_id, _API_KEY, (), verifier, chat=chat, embedding=embedding, rerank=rerank
    )


# Webhook signatures and call control; Exotel documents no webhook signature.
_SIGNED_WEBHOOKS_AND_CALLS = ("webhook", "call")
_CALLS_ONLY = ("call",)


PROVIDERS: dict[str, ProviderSpec] = {
    "openai": _api_key_provider(
        "openai", openai_family.OPENAI, openai_chat.OPENAI, openai_embeddings.OPENAI
    ),
    "azure-openai": ProviderSpec(
        "azure-openai",
        frozenset({AzureKey.kind, ApiKey.kind}),
        ("base_url",),
        openai_family.AZURE_OPENAI,
        chat=openai_chat.AZURE_OPENAI,
        embedding=openai_embeddings.AZURE_OPENAI,
    ),
    "anthropic": ProviderSpec(
        "anthropic",
        _API_KEY,
        (),
        anthropic_verification.VERIFIER,
        check_config=anthropic_chat.max_tokens_violations,
        chat=anthropic_chat.ANTHROPIC,
    ),
    "gemini": _api_key_provider(
        "gemini", gemini.VERIFIER, google_chat.GEMINI, google_embeddings.GEMINI
    ),
    "vertex-ai": ProviderSpec(
        "vertex-ai",
        frozenset({GcpServiceAccount.kind}),
        ("region",),
        vertex.VERIFIER,
        check_secret=_check_service_account,
        chat=google_chat.VERTEX_AI,
        embedding=google_embeddings.VERTEX_AI,
    ),
    # AWS keys (SigV4), or a Bedrock API key sent as a bearer token.
    "bedrock": ProviderSpec(
        "bedrock",
        frozenset({AwsKeys.kind, ApiKey.kind}),
        ("region",),
        bedrock.VERIFIER,
        chat=bedrock_chat.BEDROCK,
        embedding=bedrock_embeddings.BEDROCK,
        rerank=bedrock_rerank.BEDROCK,
    ),
    "cohere": _api_key_provider(
        "cohere",
        cohere.VERIFIER,
        chat=cohere_chat.COHERE,
        embedding=cohere_embeddings.COHERE,
        rerank=cohere_rerank.COHERE,
    ),
    "mistral": _api_key_provider(
        "mistral", openai_family.MISTRAL, openai_chat.MISTRAL, openai_embeddings.MISTRAL
    ),
    "huggingface": _api_key_provider(
        "huggingface",
        openai_family.HUGGINGFACE,
        openai_chat.HUGGINGFACE,
        openai_embeddings.HUGGINGFACE,
    ),
    "replicate": _api_key_provider("replicate", replicate.VERIFIER, replicate_chat.REPLICATE),
    "voyageai": _api_key_provider(
        "voyageai",
        voyageai.VERIFIER,
        embedding=voyage_embeddings.VOYAGE,
        rerank=voyage_rerank.VOYAGE,
    ),
    "deepgram": _api_key_provider("deepgram", deepgram.VERIFIER),
    "elevenlabs": _api_key_provider("elevenlabs", elevenlabs.VERIFIER),
    "cartesia": ProviderSpec(
        "cartesia", _API_KEY, (), cartesia.VERIFIER, check_config=cartesia.version_violations
    ),
    "assemblyai": _api_key_provider("assemblyai", assemblyai.VERIFIER),
    "openai-compatible": ProviderSpec(
        "openai-compatible",
        _API_KEY,
        ("base_url",),
        openai_family.OPENAI_COMPATIBLE,
        key_optional=True,
        chat=openai_chat.OPENAI_COMPATIBLE,
        embedding=openai_embeddings.OPENAI_COMPATIBLE,
    ),
    "twilio": ProviderSpec(
        "twilio",
        frozenset({TwilioAccount.kind}),
        (),
        twilio.VERIFIER,
        check_secret=twilio_account.secret_violations,
        telephony=_SIGNED_WEBHOOKS_AND_CALLS,
    ),
    "vonage": ProviderSpec(
        "vonage",
        frozenset({VonageAccount.kind}),
        (),
        vonage.VERIFIER,
        check_secret=vonage_account.secret_violations,
        telephony=_SIGNED_WEBHOOKS_AND_CALLS,
    ),
    "plivo": ProviderSpec(
        "plivo",
        frozenset({PlivoAccount.kind}),
        (),
        plivo.VERIFIER,
        check_secret=plivo_account.secret_violations,
        telephony=_SIGNED_WEBHOOKS_AND_CALLS,
    ),
    "telnyx": ProviderSpec(
        "telnyx",
        frozenset({TelnyxAccount.kind}),
        (),
        telnyx.VERIFIER,
        check_secret=telnyx_account.secret_violations,
        check_config=telnyx_account.connection_violations,
        telephony=_SIGNED_WEBHOOKS_AND_CALLS,
    ),
    # The region (`sg`, `in`) picks the cluster's host; see exotel/regions.py.
    "exotel": ProviderSpec(
        "exotel",
        frozenset({ExotelAccount.kind}),
        (),
        exotel.VERIFIER,
        check_secret=exotel_account.secret_violations,
        telephony=_CALLS_ONLY,
    ),
}


def get_provider(provider_id: str) -> ProviderSpec:
    """The provider with this id, or `InvalidArgument` on the `provider` field."""
    spec = PROVIDERS.get(provider_id)
    if spec is None:
        # The unknown id is not echoed: it came from the request and may be anything.
        known = ", ".join(sorted(PROVIDERS))
        raise InvalidArgument.for_field(PROVIDER_FIELD, f"unknown provider; known: {known}")
    return spec


def chat_model_for(provider_id: str) -> ChatModel | None:
    """What streams chat for this provider (None: it offers no chat here)."""
    spec = PROVIDERS.get(provider_id)
    return spec.chat if spec is not None else None


def embedding_model_for(provider_id: str) -> EmbeddingModel | None:
    """What embeds texts for this provider (None: it offers no embeddings here)."""
    spec = PROVIDERS.get(provider_id)
    return spec.embedding if spec is not None else None


def rerank_model_for(provider_id: str) -> RerankModel | None:
    """What ranks documents for this provider (None: it offers no reranking here)."""
    spec = PROVIDERS.get(provider_id)
    return spec.rerank if spec is not None else None


def telephony_capabilities_for(provider_id: str) -> tuple[str, ...]:
    """What TelephonyService offers for this provider (empty: it is not a telephony provider)."""
    spec = PROVIDERS.get(provider_id)
    return spec.telephony if spec is not None else ()


def check_credential(provider_id: str, config: CredentialConfig, secret: SecretMaterial) -> None:
    """Raise `InvalidArgument` listing every field violation of a credential to be stored."""
    violations = get_provider(provider_id).violations(config, secret)
    if violations:
        summary = "; ".join(f"{item.field}: {item.description}" for item in violations)
        raise InvalidArgument(f"invalid credential: {summary}", violations)
