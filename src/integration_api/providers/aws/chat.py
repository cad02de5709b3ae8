"""Streaming chat through Bedrock's ConverseStream: `POST /model/{modelId}/converse-stream`.

One translation serves every model family Bedrock hosts (Anthropic, Llama, Mistral, Titan,
Nova, Cohere…): Converse is Bedrock's own schema. The host is the runtime endpoint of the
credential's region (`https://bedrock-runtime.{region}.amazonaws.com`) unless `base_url`
names another. The model id, inference-profile id or ARN is one path segment: `/` (in an ARN)
and every other character a segment may not hold are percent-encoded; `:` is left as it is,
since a segment may hold it and the aiohttp transport sends `%3A` as `:` anyway, and the
signature must cover the path exactly as sent. The body is signed as it is sent. The request
is written by `chat_request`, the frames decoded by `eventstream`, read by `chat_stream`, errors
mapped by `errors`.

See: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from urllib.parse import quote

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument
from integration_api.llm.contract import ChatRequest, StreamPart
from integration_api.providers.aws.chat_request import converse_body
from integration_api.providers.aws.chat_stream import BedrockStreamReader, request_id_of
from integration_api.providers.aws.errors import classify_error
from integration_api.providers.aws.eventstream import open_frame_stream
from integration_api.providers.aws.verification import PROVIDER, bedrock_headers
from integration_api.providers.endpoints import (
    REGION_FIELD,
    join_url,
    resolve_base_url,
    validate_region,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.sanitize import secret_values
from integration_api.upstream.timer import UpstreamTimer

JSON = "application/json"


def runtime_base_url(credential: ProviderCredential, service_host: str = "bedrock-runtime") -> str:
    """`base_url` when configured, else the regional host of `service_host`."""
    region = credential.config.region
    if not region:
        raise InvalidArgument.for_field(REGION_FIELD, f"is required for {PROVIDER}")
    problem = validate_region(region, PROVIDER)
    if problem is not None:
        raise InvalidArgument.for_field(REGION_FIELD, problem)
    default = f"https://{service_host}.{region}.amazonaws.com"
    return resolve_base_url(PROVIDER, credential.config, default)


# What a path segment may hold unencoded (RFC 3986 `pchar` beyond the unreserved characters).
_SEGMENT_SAFE = ":@!$&'()*+,;="


def model_path(model: str, action: str) -> str:
    """`model/{modelId}/{action}` with the id as one segment (`/` → `%2F`, `:` kept)."""
    return f"model/{quote(model, safe=_SEGMENT_SAFE)}/{action}"


def encoded_body(body: object) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


class BedrockChatModel:
    """The `ChatModel` of Bedrock's Converse API."""

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
        content = encoded_body(converse_body(request))
        url = join_url(runtime_base_url(credential), model_path(request.model, "converse-stream"))
        secrets = secret_values(credential.secret)
        async with open_frame_stream(
            http,
            url,
            provider=PROVIDER,
            timer=timer,
            headers=bedrock_headers(credential, "POST", url, content, JSON),
            content=content,
            secrets=secrets,
            classify_error=classify_error,
        ) as stream:
            reader = BedrockStreamReader(
                PROVIDER,
                request.model,
                request_id_of(stream.response.headers),
                secrets,
                stream.limits,
            )
            async for frame in stream.frames:
                for part in reader.read(frame):
                    yield part
                if reader.finished:
                    return
            for part in reader.end():
                yield part


BEDROCK = BedrockChatModel()
