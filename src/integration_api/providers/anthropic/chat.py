"""Streaming chat through Anthropic's Messages API: `POST {base}/v1/messages`, `stream: true`.

Auth is the `x-api-key` header with `anthropic-version: 2023-06-01`; `base_url` (default
`https://api.anthropic.com`) is the host without `/v1`. The request is written by `request`, the
stream read by `stream`, errors mapped by `errors`.

Anthropic requires `max_tokens`. A request without one gets the credential's default:
`config.extra["max_tokens"]` (a whole number from 1 to 1,000,000), else 4096 tokens, enough for
any spoken or chat answer. With a thinking budget and no `max_tokens`, the budget is added to it.

See: https://docs.claude.com/en/api/messages, https://docs.claude.com/en/api/versioning.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping

from integration_api.credentials.model import CredentialConfig, ProviderCredential
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.llm.contract import ChatRequest, StreamPart
from integration_api.providers.anthropic.errors import classify_error
from integration_api.providers.anthropic.request import messages_body
from integration_api.providers.anthropic.stream import AnthropicStreamReader, request_id_of
from integration_api.providers.anthropic.verification import PROVIDER, anthropic_headers
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.sanitize import secret_values
from integration_api.providers.sse import open_event_stream
from integration_api.upstream.stream_errors import truncated
from integration_api.upstream.timer import UpstreamTimer

DEFAULT_MAX_TOKENS = 4096
MAX_TOKENS_KEY = "max_tokens"
MAX_TOKENS_FIELD = f"config.extra[{MAX_TOKENS_KEY!r}]"
_MAX_TOKENS_CEILING = 1_000_000


def max_tokens_violations(config: CredentialConfig) -> list[FieldViolation]:
    """What is wrong with a credential's default `max_tokens` (nothing when it has none)."""
    if _configured_max_tokens(config.extra) is None and MAX_TOKENS_KEY in config.extra:
        return [FieldViolation(MAX_TOKENS_FIELD, "must be a whole number from 1 to 1000000")]
    return []


def _configured_max_tokens(extra: Mapping[str, str]) -> int | None:
    value = extra.get(MAX_TOKENS_KEY, "").strip()
    if not value.isdigit():
        return None
    number = int(value)
    return number if 1 <= number <= _MAX_TOKENS_CEILING else None


def default_max_tokens(config: CredentialConfig) -> int:
    """The answer's budget when a request sets none; a stored value that is not usable refuses."""
    problems = max_tokens_violations(config)
    if problems:
        raise InvalidArgument.for_field(problems[0].field, problems[0].description)
    return _configured_max_tokens(config.extra) or DEFAULT_MAX_TOKENS


class AnthropicChatModel:
    """The `ChatModel` of Anthropic's Messages API."""

    @property
    def provider(self) -> str:
        return PROVIDER

    def default_model(self, credential: ProviderCredential) -> str:
        return credential.config.default_model.strip()

    async def stream_chat(
        self,
        credential: ProviderCredential,
        request: ChatRequest,
        http: ProviderClient,
        timer: UpstreamTimer,
    ) -> AsyncGenerator[StreamPart, None]:
        """Stream one answer; ends with `Finish` or raises the typed error that ended it."""
        body = messages_body(request, default_max_tokens(credential.config))
        url = join_url(resolve_base_url(PROVIDER, credential.config), "v1/messages")
        secrets = secret_values(credential.secret)
        async with open_event_stream(
            http,
            url,
            provider=PROVIDER,
            timer=timer,
            headers=anthropic_headers(credential),
            json_body=body,
            secrets=secrets,
            classify_error=classify_error,
        ) as stream:
            reader = AnthropicStreamReader(
                PROVIDER, request_id_of(stream.response.headers), secrets, stream.limits
            )
            async for event in stream.events:
                for part in reader.read(event.event, event.data):
                    yield part
                if reader.finished:
                    return
        raise truncated(PROVIDER)


ANTHROPIC = AnthropicChatModel()
