"""Streaming chat through Cohere's v2 API: `POST {base}/v2/chat` with `stream: true`.

Auth is `Authorization: Bearer <key>`; `base_url` (default `https://api.cohere.com`) is the host
without `/v2`. The request is written by `chat_request`, the stream read by `stream`; HTTP
errors go through the generic table (Cohere's 498 invalid token is a rejected key).

See: https://docs.cohere.com/reference/chat-stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from integration_api.credentials.model import ProviderCredential
from integration_api.llm.contract import ChatRequest, StreamPart
from integration_api.providers.cohere.chat_request import chat_body
from integration_api.providers.cohere.stream import CohereStreamReader
from integration_api.providers.cohere.verification import PROVIDER, cohere_headers
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.sanitize import secret_values
from integration_api.providers.sse import open_event_stream
from integration_api.upstream.stream_errors import truncated
from integration_api.upstream.timer import UpstreamTimer


class CohereChatModel:
    """The `ChatModel` of Cohere's v2 chat API."""

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
        body = chat_body(request)
        url = join_url(resolve_base_url(PROVIDER, credential.config), "v2/chat")
        secrets = secret_values(credential.secret)
        async with open_event_stream(
            http,
            url,
            provider=PROVIDER,
            timer=timer,
            headers=cohere_headers(credential),
            json_body=body,
            secrets=secrets,
        ) as stream:
            reader = CohereStreamReader(PROVIDER, request.model, secrets, stream.limits)
            async for event in stream.events:
                for part in reader.read(event.data):
                    yield part
                if reader.finished:
                    return
        raise truncated(PROVIDER)


COHERE = CohereChatModel()
