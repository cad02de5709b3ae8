"""Every provider the service can call: the list of provider folders, and lookups by id.

Each folder's `provider.py` declares what it serves (`declaration.ProviderFolder`); adding a
provider is its folder plus its line in `FOLDERS`. Every table keyed by provider id is built
here from those declarations. `check_credential` is what the API layer runs before a credential
is stored: the right kind of secret, the config fields the provider needs, a usable base URL
and region.
"""

from __future__ import annotations

from collections.abc import Mapping

from integration_api.credentials.model import CredentialConfig, SecretMaterial
from integration_api.embeddings.ports import EmbeddingModel, RerankModel
from integration_api.errors import InvalidArgument
from integration_api.llm.ports import ChatModel
from integration_api.providers.anthropic import prices as anthropic_prices
from integration_api.providers.anthropic import provider as anthropic
from integration_api.providers.assemblyai import prices as assemblyai_prices
from integration_api.providers.assemblyai import provider as assemblyai
from integration_api.providers.aws import provider as aws
from integration_api.providers.cartesia import prices as cartesia_prices
from integration_api.providers.cartesia import provider as cartesia
from integration_api.providers.cohere import prices as cohere_prices
from integration_api.providers.cohere import provider as cohere
from integration_api.providers.declaration import (
    ConfigCheck as ConfigCheck,
)
from integration_api.providers.declaration import (
    ProviderFolder,
)
from integration_api.providers.declaration import (
    ProviderSpec as ProviderSpec,
)
from integration_api.providers.declaration import (
    SecretCheck as SecretCheck,
)
from integration_api.providers.deepgram import prices as deepgram_prices
from integration_api.providers.deepgram import provider as deepgram
from integration_api.providers.elevenlabs import prices as elevenlabs_prices
from integration_api.providers.elevenlabs import provider as elevenlabs
from integration_api.providers.exotel import provider as exotel
from integration_api.providers.google import prices as google_prices
from integration_api.providers.google import provider as google
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.identity import provider as identity
from integration_api.providers.openai import prices as openai_prices
from integration_api.providers.openai import provider as openai
from integration_api.providers.plivo import provider as plivo
from integration_api.providers.replicate import provider as replicate
from integration_api.providers.telnyx import provider as telnyx
from integration_api.providers.twilio import provider as twilio
from integration_api.providers.vonage import provider as vonage
from integration_api.providers.voyage import prices as voyage_prices
from integration_api.providers.voyage import provider as voyage
from integration_api.telephony.call_ports import CallControl
from integration_api.telephony.webhooks import UnsignedWebhooks, WebhookChecker
from integration_api.usage.pricing import ShippedPrice

PROVIDER_FIELD = "provider"

FOLDERS: tuple[ProviderFolder, ...] = (
    openai.FOLDER,
    anthropic.FOLDER,
    google.FOLDER,
    aws.FOLDER,
    cohere.FOLDER,
    replicate.FOLDER,
    voyage.FOLDER,
    deepgram.FOLDER,
    elevenlabs.FOLDER,
    cartesia.FOLDER,
    assemblyai.FOLDER,
    twilio.FOLDER,
    vonage.FOLDER,
    plivo.FOLDER,
    telnyx.FOLDER,
    exotel.FOLDER,
    identity.FOLDER,
)

PROVIDERS: dict[str, ProviderSpec] = {
    spec.id: spec for folder in FOLDERS for spec in folder.providers
}

# The prices shipped as defaults, each folder's from its `prices.py`: seeded at start for each
# provider and model the price table has no row for. Only list prices read on the provider's
# own pages or, where those were out of reach, that two independent pages agree on (each note
# names what was read, and each file's docstring what it leaves out and why).
DEFAULT_PRICES: tuple[ShippedPrice, ...] = (
    *openai_prices.PRICES,
    *anthropic_prices.PRICES,
    *google_prices.PRICES,
    *cohere_prices.PRICES,
    *voyage_prices.PRICES,
    *deepgram_prices.PRICES,
    *assemblyai_prices.PRICES,
    *elevenlabs_prices.PRICES,
    *cartesia_prices.PRICES,
)

# Where each declared id's key may go without an `EGRESS_ALLOW` entry (see `egress_hosts`).
PROVIDER_HOSTS: dict[str, tuple[str, ...]] = {
    **{spec.id: spec.hosts for spec in PROVIDERS.values() if spec.hosts},
    **{own.id: own.hosts for folder in FOLDERS for own in folder.hosts_only},
}

# The default base URL of each provider whose host does not depend on the credential.
DEFAULT_BASE_URLS: Mapping[str, str] = {
    spec.id: spec.default_base_url for spec in PROVIDERS.values() if spec.default_base_url
}

# The providers whose whole API lives under one version path that `base_url` may leave out.
VERSION_PATHS: Mapping[str, str] = {
    spec.id: spec.version_path for spec in PROVIDERS.values() if spec.version_path
}


def get_provider(provider_id: str) -> ProviderSpec:
    """The provider with this id, or `InvalidArgument` on the `provider` field."""
    spec = PROVIDERS.get(provider_id)
    if spec is None:
        # The unknown id is not echoed: it came from the request and may be anything.
        known = ", ".join(sorted(PROVIDERS))
        raise InvalidArgument.for_field(PROVIDER_FIELD, f"unknown provider; known: {known}")
    return spec


def chat_model_for(provider_id: str) -> ChatModel[ProviderClient] | None:
    """What streams chat for this provider (None: it offers no chat here)."""
    spec = PROVIDERS.get(provider_id)
    return spec.chat if spec is not None else None


def embedding_model_for(provider_id: str) -> EmbeddingModel[ProviderClient] | None:
    """What embeds texts for this provider (None: it offers no embeddings here)."""
    spec = PROVIDERS.get(provider_id)
    return spec.embedding if spec is not None else None


def rerank_model_for(provider_id: str) -> RerankModel[ProviderClient] | None:
    """What ranks documents for this provider (None: it offers no reranking here)."""
    spec = PROVIDERS.get(provider_id)
    return spec.rerank if spec is not None else None


def telephony_capabilities_for(provider_id: str) -> tuple[str, ...]:
    """What TelephonyService offers for this provider (empty: it is not a telephony provider)."""
    spec = PROVIDERS.get(provider_id)
    return spec.telephony if spec is not None else ()


def webhook_checker_for(provider_id: str) -> WebhookChecker | UnsignedWebhooks | None:
    """How this provider's webhooks are checked (None: it sends none the service knows of)."""
    spec = PROVIDERS.get(provider_id)
    return spec.webhooks if spec is not None else None


def call_control_for(provider_id: str) -> CallControl[ProviderClient] | None:
    """How this provider's calls are placed and controlled (None: it offers no call control)."""
    spec = PROVIDERS.get(provider_id)
    return spec.calls if spec is not None else None


def check_credential(provider_id: str, config: CredentialConfig, secret: SecretMaterial) -> None:
    """Raise `InvalidArgument` listing every field violation of a credential to be stored."""
    violations = get_provider(provider_id).violations(config, secret)
    if violations:
        summary = "; ".join(f"{item.field}: {item.description}" for item in violations)
        raise InvalidArgument(f"invalid credential: {summary}", violations)
