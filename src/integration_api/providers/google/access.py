"""Where a Google model lives and how a call to it is authorized: Gemini API or Vertex AI.

| provider  | model URL (after the base URL)                                   | auth             |
| --------- | ---------------------------------------------------------------- | ---------------- |
| gemini    | /v1beta/models/{model}:{method}                                  | `x-goog-api-key` |
| vertex-ai | /v1/projects/{project}/locations/{region}/publishers/google/     | `Authorization:  |
|           | models/{model}:{method}                                          | Bearer` token    |

The Gemini key travels in a header, never in `?key=`, so it stays out of every URL and so out
of every log line and error that quotes one. Vertex's project is the service account's
`project_id`, its location `config.region` (`global` has no regional host); its access token
comes from `AccessTokenCache`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument
from integration_api.providers.endpoints import (
    REGION_FIELD,
    join_url,
    resolve_base_url,
    validate_region,
)
from integration_api.providers.google.access_tokens import AccessTokenCache
from integration_api.providers.google.gemini import (
    API_VERSION as GEMINI_API_VERSION,
)
from integration_api.providers.google.gemini import (
    gemini_headers,
)
from integration_api.providers.google.service_account import parse_service_account
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.key_material import service_account_of
from integration_api.providers.sanitize import secret_values

VERTEX_API_VERSION = "v1"
# A model name that becomes one URL path segment: no slashes, no dot segments, no `:method`.
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@\-]{0,127}")
_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.:\-]{0,99}")


@dataclass(frozen=True)
class Authorized:
    """Headers that authorize one call, and every secret value they or the credential hold."""

    headers: dict[str, str]
    secrets: tuple[str, ...] = field(repr=False)


def model_segment(model: str, field_path: str = "model") -> str:
    """`model` without a leading `models/`, checked to be safe as one URL path segment."""
    name = model.removeprefix("models/")
    if not _MODEL.fullmatch(name):
        raise InvalidArgument.for_field(
            field_path, "must be letters, digits, '.', '_', '@' or '-' (at most 128)"
        )
    return name


@dataclass(frozen=True)
class GeminiAccess:
    """The Gemini API (AI Studio) with an API key."""

    provider: str = "gemini"

    def model_url(self, credential: ProviderCredential, model: str, method: str) -> str:
        base = resolve_base_url(self.provider, credential.config)
        return join_url(base, f"{GEMINI_API_VERSION}/models/{model_segment(model)}:{method}")

    async def authorize(self, credential: ProviderCredential, http: ProviderClient) -> Authorized:
        return Authorized(gemini_headers(credential), secret_values(credential.secret))

    def token_refused(self, credential: ProviderCredential) -> None:
        """Nothing is cached for an API key."""


@dataclass(frozen=True)
class VertexAccess:
    """Vertex AI with a service-account key, one access token per key at a time."""

    tokens: AccessTokenCache
    provider: str = "vertex-ai"

    def model_url(self, credential: ProviderCredential, model: str, method: str) -> str:
        region = credential.config.region
        if not region:
            raise InvalidArgument.for_field(REGION_FIELD, f"is required for {self.provider}")
        problem = validate_region(region)
        if problem is not None:
            raise InvalidArgument.for_field(REGION_FIELD, problem)
        project = parse_service_account(service_account_of(credential)).project_id
        if not _PROJECT.fullmatch(project):
            raise InvalidArgument.for_field("secret", "the service-account project_id is invalid")
        base = resolve_base_url(self.provider, credential.config)
        path = (
            f"{VERTEX_API_VERSION}/projects/{project}/locations/{region}"
            f"/publishers/google/models/{model_segment(model)}:{method}"
        )
        return join_url(base, path)

    async def authorize(self, credential: ProviderCredential, http: ProviderClient) -> Authorized:
        token = await self.tokens.token_for(credential, http, provider=self.provider)
        return Authorized(
            {"Authorization": f"Bearer {token}"}, (token, *secret_values(credential.secret))
        )

    def token_refused(self, credential: ProviderCredential) -> None:
        """Vertex refused the token: the next call exchanges the key for a new one."""
        self.tokens.forget(credential)


GoogleAccess = GeminiAccess | VertexAccess

GEMINI = GeminiAccess()
VERTEX = VertexAccess(AccessTokenCache())
