"""LlmService: streams a chat answer through a stored credential."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc.aio
from integration_api_proto.integration.v1 import ChatChunk, ChatRequest, grpc_aio

from integration_api.call_context import require_principal
from integration_api.llm.converters import chat_request_from_message, chunk_from_part
from integration_api.llm.pipeline import ChatService
from integration_api.llm.timing import Deadline
from integration_api.providers.http_client import ProviderClient


class LlmServicer(grpc_aio.LlmServiceBase):
    def __init__(self, chat: ChatService[ProviderClient]) -> None:
        self._chat = chat

    async def chat(
        self, request: ChatRequest, context: grpc.aio.ServicerContext[ChatRequest, ChatChunk]
    ) -> AsyncIterator[ChatChunk]:
        call = chat_request_from_message(request)
        deadline = Deadline.after(context.time_remaining())
        async for part in self._chat.stream(require_principal().tenant, call, deadline):
            yield chunk_from_part(part)
