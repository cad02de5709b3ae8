"""The OpenAI wire family: one adapter, configured per variant.

| variant           | auth                        | verification probe                       |
| ----------------- | --------------------------- | ---------------------------------------- |
| openai            | `Authorization: Bearer`     | GET {base}/models                        |
| mistral           | `Authorization: Bearer`     | GET {base}/models                        |
| openai-compatible | Bearer, when a key is given | GET {base}/models                        |
| azure-openai      | `api-key`                   | GET {resource}/openai/models?api-version |
| huggingface       | `Authorization: Bearer`     | GET {hub}/api/whoami-v2                  |

Azure's v1 surface (`base_url` ending in `/openai/v1`) lists models without `api-version`.

See: https://platform.openai.com/docs/api-reference/models/list,
https://learn.microsoft.com/azure/ai-services/openai/reference,
https://docs.mistral.ai/api/, https://huggingface.co/docs/hub/api.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from integration_api.credentials.model import ProviderCredential
from integration_api.credentials.verification import VerificationResult
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.key_material import api_key_of
from integration_api.providers.verification import HttpProbe, ProbeRequest, Verdict, inconclusive

AZURE_DEFAULT_API_VERSION = "2024-10-21"
# Hugging Face serves inference from the router but answers "who am I" from the Hub.
HUGGINGFACE_HUB_URL = "https://huggingface.co"

Route = tuple[str, dict[str, str]]


def bearer_headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def azure_headers(key: str) -> dict[str, str]:
    return {"api-key": key}


def models_route(provider: str, credential: ProviderCredential) -> Route:
    return join_url(resolve_base_url(provider, credential.config), "models"), {}


def azure_models_route(provider: str, credential: ProviderCredential) -> Route:
    """The data-plane model list of an Azure OpenAI resource.

    `base_url` is the resource endpoint (`https://{resource}.openai.azure.com`); on the v1
    surface (`…/openai/v1`) the list needs no `api-version`.
    """
    base = resolve_base_url(provider, credential.config)
    path = urlsplit(base).path.rstrip("/")
    if path.endswith("/openai/v1"):
        return join_url(base, "models"), {}
    if path.endswith("/openai"):
        base = base.removesuffix("/openai")
    api_version = credential.config.api_version or AZURE_DEFAULT_API_VERSION
    return join_url(base, "openai/models"), {"api-version": api_version}


def huggingface_whoami_route(provider: str, credential: ProviderCredential) -> Route:
    """Hugging Face's token check lives on the Hub, unless the credential names its own host."""
    base = resolve_base_url(provider, credential.config, default=HUGGINGFACE_HUB_URL)
    return join_url(base, "api/whoami-v2"), {}


def read_model_list(body: object) -> Verdict | None:
    """A 200 that is not a model list means base_url points at something else."""
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return None
    return inconclusive("the endpoint did not answer like an OpenAI-compatible API")


@dataclass(frozen=True)
class OpenAIVariant:
    """One member of the OpenAI family: where it lives and how it authenticates."""

    provider: str
    auth_headers: Callable[[str], dict[str, str]] = bearer_headers
    verification_route: Callable[[str, ProviderCredential], Route] = models_route
    key_optional: bool = False
    checks_model_list: bool = True

    def headers(self, credential: ProviderCredential) -> dict[str, str]:
        return self.auth_headers(api_key_of(credential, optional=self.key_optional))

    def verification_request(self, credential: ProviderCredential) -> ProbeRequest:
        url, params = self.verification_route(self.provider, credential)
        return ProbeRequest("GET", url, self.headers(credential), params)

    async def verify(
        self, credential: ProviderCredential, http: ProviderClient
    ) -> VerificationResult:
        probe = HttpProbe(
            provider=self.provider,
            build_request=self.verification_request,
            read_answer=read_model_list if self.checks_model_list else None,
        )
        return await probe.verify(credential, http)


OPENAI = OpenAIVariant("openai")
MISTRAL = OpenAIVariant("mistral")
OPENAI_COMPATIBLE = OpenAIVariant("openai-compatible", key_optional=True)
AZURE_OPENAI = OpenAIVariant(
    "azure-openai", auth_headers=azure_headers, verification_route=azure_models_route
)
HUGGINGFACE = OpenAIVariant(
    "huggingface", verification_route=huggingface_whoami_route, checks_model_list=False
)
