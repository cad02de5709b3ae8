"""Streaming chat with Gemini models, through the Gemini API or Vertex AI.

Both serve the same `streamGenerateContent?alt=sse` with the same bodies; only the URL and the
authorization differ (`access`). The request is written by `chat_request`, the stream read by
`chat_stream`. A Vertex token the API refuses is forgotten, so the next call gets a new one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import FailedPrecondition
from integration_api.llm.contract import ChatRequest, StreamPart
from integration_api.providers.google import access
from integration_api.providers.google.access import GoogleAccess
from integration_api.providers.google.chat_request import generate_content_body
from integration_api.providers.google.chat_stream import GeminiStreamReader
from integration_api.providers.google.gemini import classify_google_error
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.http_errors import CREDENTIAL_REJECTED
from integration_api.providers.sse import open_event_stream
from integration_api.upstream.timer import UpstreamTimer

STREAM_METHOD = "streamGenerateContent"


@dataclass(frozen=True)
class GeminiChatModel:
    """A `ChatModel` for Gemini models behind one of Google's two APIs."""

    access: GoogleAccess

    @property
    def provider(self) -> str:
        return self.access.provider

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
        url = self.access.model_url(credential, request.model, STREAM_METHOD)
        body = generate_content_body(request, self.provider)
        authorized = await self.access.authorize(credential, http)
        try:
            async with open_event_stream(
                http,
                url,
                provider=self.provider,
                timer=timer,
                headers=authorized.headers,
                params={"alt": "sse"},
                json_body=body,
                secrets=authorized.secrets,
                classify_error=classify_google_error,
            ) as stream:
                reader = GeminiStreamReader(self.provider, authorized.secrets, stream.limits)
                async for event in stream.events:
                    if event.data:
                        for part in reader.read(event.data):
                            yield part
                for part in reader.finish():
                    yield part
        except FailedPrecondition as error:
            if error.reason == CREDENTIAL_REJECTED:
                self.access.token_refused(credential)
            raise


GEMINI = GeminiChatModel(access.GEMINI)
VERTEX_AI = GeminiChatModel(access.VERTEX)
