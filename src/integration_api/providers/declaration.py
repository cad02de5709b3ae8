"""What a provider's folder declares about each provider id it serves, in one object each.

A folder's `provider.py` exports one `ProviderFolder`; `registry.py` lists the folders, and
every table keyed by provider id — credential checks, capabilities, default base URLs, version
paths, egress hosts, speech — is read from these declarations. Adding a provider is its folder
and its line in the registry.

Egress hosts: a pattern must name only hosts the provider itself runs. A wildcard is allowed
only under a name no one else can register (`*.api.openai.com`); where customers or strangers
can create names of their own (S3 buckets under `amazonaws.com`, Hugging Face dedicated
endpoints under `endpoints.huggingface.cloud`), the pattern names the exact service host, or
the operator lists the host in `EGRESS_ALLOW`. Syntax: see `egress_hosts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    CredentialConfig,
    SecretMaterial,
)
from integration_api.credentials.verification import CredentialVerifier
from integration_api.embeddings.ports import EmbeddingModel, RerankModel
from integration_api.errors import FieldViolation
from integration_api.llm.ports import ChatModel
from integration_api.providers.endpoints import (
    ANY_CLOUD_REGION,
    BASE_URL_FIELD,
    REGION_FIELD,
    RegionShape,
    region_problem,
    validate_base_url,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.key_material import SECRET_FIELD
from integration_api.providers.speech_transport import SpeechTransport
from integration_api.request_caps import MAX_API_VERSION_CHARACTERS, MAX_MODEL_CHARACTERS
from integration_api.speech.ports import StreamSynthesizer, Synthesizer, Transcriber
from integration_api.telephony.call_ports import CallControl
from integration_api.telephony.webhooks import UnsignedWebhooks, WebhookChecker

SecretCheck = Callable[[SecretMaterial], list[FieldViolation]]
ConfigCheck = Callable[[CredentialConfig], list[FieldViolation]]
RegionalBaseUrl = Callable[[str], str]
SecretDestination = Callable[[SecretMaterial], str]

API_KEY_ONLY = frozenset({ApiKey.kind})

# What a telephony provider's credentials serve in TelephonyService (`ProviderSpec.telephony`).
WEBHOOK = "webhook"
CALL = "call"


@dataclass(frozen=True)
class SpeechProvider:
    """Which object serves which speech capability (None: the provider lacks it)."""

    transcribe: Transcriber[SpeechTransport] | None = None
    synthesize: Synthesizer[SpeechTransport] | None = None
    synthesize_stream: StreamSynthesizer[SpeechTransport] | None = None

    @property
    def offers_any(self) -> bool:
        return any((self.transcribe, self.synthesize, self.synthesize_stream))


@dataclass(frozen=True, kw_only=True)
class ProviderSpec:
    """What the service knows about one provider: where it lives, what it offers, what it needs.

    Attributes:
        id: the provider id credentials carry (`openai`, `vertex-ai`).
        verifier: checks a key with the provider's cheapest authenticated call.
        secret_kinds: the `kind` values of the secret classes it accepts.
        required_config: `CredentialConfig` fields that must not be empty.
        key_optional: an empty API key is allowed (self-hosted servers without auth).
        check_secret: further checks of the secret (a service-account key file's fields).
        check_config: further checks of the config (a provider's `extra` settings).
        secret_destination: the URL a secret of this provider itself names, where it is
            exchanged for a token ('' when it names none): a service-account key file's
            `token_uri`, checked by the egress policy like `base_url` and audited when moved.
        chat: streams chat answers, when the provider offers chat.
        embedding: embeds texts, when the provider offers embeddings.
        rerank: ranks documents against a query, when the provider offers reranking.
        speech: its speech-to-text and text-to-speech, where it offers them.
        telephony: what TelephonyService does with its credentials: `webhook` (signatures
            checked by ValidateWebhook), `call` (PlaceCall and the calls it places).
        webhooks: checks its inbound webhooks' signatures (`UnsignedWebhooks`: a telephony
            provider whose webhooks carry none, which ValidateWebhook says).
        calls: places and controls calls (PlaceCall, GetCall, UpdateCall, HangUp), when the
            provider offers call control.
        default_base_url: where its key goes when the credential names no `base_url` (and no
            region, for a provider with `regional_base_url`; None: the credential must name one).
        regional_base_url: the default base URL for a `config.region`, for a provider whose
            host depends on it.
        version_path: the version path its whole API lives under (`/v1`), added to a
            configured `base_url` that names no path at all.
        region_shape: the region names it accepts.
        hosts: its own hosts, where its key may go without an `EGRESS_ALLOW` entry.
        any_host: its key may go to any host name (a self-hosted, compatible server).
    """

    id: str
    verifier: CredentialVerifier[ProviderClient]
    secret_kinds: frozenset[str] = API_KEY_ONLY
    required_config: tuple[str, ...] = ()
    key_optional: bool = False
    check_secret: SecretCheck | None = None
    check_config: ConfigCheck | None = None
    secret_destination: SecretDestination | None = None
    chat: ChatModel[ProviderClient] | None = None
    embedding: EmbeddingModel[ProviderClient] | None = None
    rerank: RerankModel[ProviderClient] | None = None
    speech: SpeechProvider = field(default_factory=SpeechProvider)
    telephony: tuple[str, ...] = ()
    webhooks: WebhookChecker | UnsignedWebhooks | None = None
    calls: CallControl[ProviderClient] | None = None
    default_base_url: str | None = None
    regional_base_url: RegionalBaseUrl | None = None
    version_path: str | None = None
    region_shape: RegionShape = ANY_CLOUD_REGION
    hosts: tuple[str, ...] = ()
    any_host: bool = False

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
        problems.extend(self._endpoint_violations(config))
        if self.check_config is not None:
            problems.extend(self.check_config(config))
        return problems

    def _endpoint_violations(self, config: CredentialConfig) -> list[FieldViolation]:
        problems: list[FieldViolation] = []
        if config.base_url.strip():
            problem = validate_base_url(config.base_url.strip())
            if problem is not None:
                problems.append(FieldViolation(BASE_URL_FIELD, problem))
        if config.region:
            problem = region_problem(config.region, self.region_shape)
            if problem is not None:
                problems.append(FieldViolation(REGION_FIELD, problem))
        # Each may end in a URL: a model or deployment in the path, the API version in the query.
        for name, limit in _CONFIG_NAME_LIMITS.items():
            if len(getattr(config, name)) > limit:
                problems.append(
                    FieldViolation(f"config.{name}", f"must be at most {limit} characters")
                )
        return problems


_CONFIG_NAME_LIMITS = {
    "default_model": MAX_MODEL_CHARACTERS,
    "deployment": MAX_MODEL_CHARACTERS,
    "api_version": MAX_API_VERSION_CHARACTERS,
}


def _is_empty_key(secret: SecretMaterial) -> bool:
    if isinstance(secret, ApiKey):
        return not secret.key
    if isinstance(secret, AzureKey):
        return not secret.api_key
    if isinstance(secret, AwsKeys):
        return not (secret.access_key_id and secret.secret_access_key)
    return False


@dataclass(frozen=True)
class HostsOnly:
    """An id that sends secrets only to its own hosts without being a provider here.

    The OAuth flows' identity providers: their client secrets and tokens go through the same
    transport and egress policy as provider keys.
    """

    id: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class ProviderFolder:
    """Everything one provider folder declares: the provider ids it serves, and host-only ids."""

    providers: tuple[ProviderSpec, ...]
    hosts_only: tuple[HostsOnly, ...] = ()
