"""Streaming chat for the OpenAI wire family: one adapter, configured per variant.

| variant           | chat URL                                                              |
| ----------------- | --------------------------------------------------------------------- |
| openai            | {base}/chat/completions (base `https://api.openai.com/v1`)           |
| mistral           | {base}/chat/completions (base `https://api.mistral.ai/v1`)           |
| openai-compatible | {base_url}/chat/completions (vLLM, Ollama, LM Studio: base ends /v1) |
| huggingface       | {base}/v1/chat/completions (base `https://router.huggingface.co`)    |
| azure-openai      | {resource}/openai/deployments/{model}/chat/completions?api-version;  |
|                   | on the v1 surface ({resource}/openai/v1) {base}/chat/completions     |

Auth headers come from the family's `OpenAIVariant`; the request dialect from
`openai_chat_request`; the stream is read by `openai_chat_stream`. For Azure the model is the
deployment name, and `config.deployment` serves as the default model.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument
from integration_api.llm.contract import ChatRequest, StreamPart
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.openai import family as openai_family
from integration_api.providers.openai.chat_request import ChatDialect, chat_body
from integration_api.providers.openai.chat_stream import OpenAIStreamReader, request_id_of
from integration_api.providers.openai.family import AZURE_DEFAULT_API_VERSION, OpenAIVariant
from integration_api.providers.sanitize import secret_values
from integration_api.providers.sse import open_event_stream
from integration_api.upstream.stream_errors import truncated
from integration_api.upstream.timer import UpstreamTimer

Route = tuple[str, dict[str, str]]
# A model name that becomes part of a URL path: no slashes, no dot segments, no query.
_PATH_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def path_segment_model(model: str, field_path: str = "model") -> str:
    """`model`, checked to be safe as one URL path segment (an Azure deployment name, say)."""
    if not _PATH_MODEL.fullmatch(model):
        raise InvalidArgument.for_field(
            field_path, "must be letters, digits, '.', '_', ':' or '-' (at most 128)"
        )
    return model


def azure_resource_route(credential: ProviderCredential, model: str, operation: str) -> Route:
    """`operation` (`chat/completions`, `embeddings`) of an Azure OpenAI deployment."""
    base = resolve_base_url(credential.provider, credential.config)
    path = urlsplit(base).path.rstrip("/")
    if path.endswith("/openai/v1"):
        return join_url(base, operation), {}
    base = base.removesuffix("/openai")
    deployment = path_segment_model(model)
    api_version = credential.config.api_version or AZURE_DEFAULT_API_VERSION
    url = join_url(base, f"openai/deployments/{deployment}/{operation}")
    return url, {"api-version": api_version}


def _versioned_route(credential: ProviderCredential, model: str) -> Route:
    return join_url(
        resolve_base_url(credential.provider, credential.config), "chat/completions"
    ), {}


def _huggingface_route(credential: ProviderCredential, model: str) -> Route:
    base = resolve_base_url(credential.provider, credential.config)
    path = (
        "chat/completions"
        if urlsplit(base).path.rstrip("/").endswith("/v1")
        else "v1/chat/completions"
    )
    return join_url(base, path), {}


def _azure_route(credential: ProviderCredential, model: str) -> Route:
    return azure_resource_route(credential, model, "chat/completions")


def configured_default_model(credential: ProviderCredential) -> str:
    return credential.config.default_model.strip()


def azure_default_model(credential: ProviderCredential) -> str:
    return credential.config.default_model.strip() or credential.config.deployment.strip()


@dataclass(frozen=True)
class OpenAIChatModel:
    """A `ChatModel` for one member of the OpenAI family."""

    access: OpenAIVariant
    dialect: ChatDialect
    route: Callable[[ProviderCredential, str], Route] = _versioned_route
    default_model_of: Callable[[ProviderCredential], str] = configured_default_model

    @property
    def provider(self) -> str:
        return self.access.provider

    def default_model(self, credential: ProviderCredential) -> str:
        return self.default_model_of(credential)

    async def stream_chat(
        self,
        credential: ProviderCredential,
        request: ChatRequest,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> AsyncGenerator[StreamPart, None]:
        """Stream one answer; ends with `Finish` or raises the typed error that ended it."""
        url, params = self.route(credential, request.model)
        body = chat_body(request, self.dialect)
        secrets = secret_values(credential.secret)
        async with open_event_stream(
            http,
            url,
            provider=self.provider,
            timer=timer,
            headers=self.access.headers(credential),
            params=params,
            json_body=body,
            secrets=secrets,
        ) as stream:
            reader = OpenAIStreamReader(
                self.provider, request_id_of(stream.response.headers), secrets, stream.limits
            )
            async for event in stream.events:
                if event.event == "error":
                    raise reader.read_error_event(event.data)
                data = event.data
                if not data:
                    continue
                if data.startswith("[DONE]"):
                    for part in reader.finish():
                        yield part
                    return
                for part in reader.read(data):
                    yield part
        raise truncated(self.provider)


OPENAI = OpenAIChatModel(openai_family.OPENAI, ChatDialect("openai"))
AZURE_OPENAI = OpenAIChatModel(
    openai_family.AZURE_OPENAI,
    ChatDialect("azure-openai"),
    route=_azure_route,
    default_model_of=azure_default_model,
)
MISTRAL = OpenAIChatModel(
    openai_family.MISTRAL,
    ChatDialect(
        "mistral", max_tokens_field="max_tokens", seed_field="random_seed", requests_usage=False
    ),
)
HUGGINGFACE = OpenAIChatModel(
    openai_family.HUGGINGFACE,
    ChatDialect(
        "huggingface",
        max_tokens_field="max_tokens",
        unsupported=frozenset({"parallel_tool_calls", "reasoning_budget_tokens"}),
    ),
    route=_huggingface_route,
)
OPENAI_COMPATIBLE = OpenAIChatModel(
    openai_family.OPENAI_COMPATIBLE, ChatDialect("openai-compatible", max_tokens_field="max_tokens")
)
