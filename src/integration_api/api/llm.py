"""LlmService: streams a chat answer through a stored credential or a stored route."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc.aio
from integration_api_proto.integration.v1 import ChatChunk, ChatRequest, grpc_aio

from integration_api.call_context import require_principal
from integration_api.llm.converters import chat_request_from_message, chunk_from_part
from integration_api.llm.pipeline import ChatService
from integration_api.llm.timing import Deadline
from integration_api.providers.http_client import ProviderClient
from integration_api.routes.chat import RoutedChat, RoutedFinish
from integration_api.routes.converters import chunk_from_routed_finish


class LlmServicer(grpc_aio.LlmServiceBase):
    def __init__(
        self, chat: ChatService[ProviderClient], routed: RoutedChat[ProviderClient]
    ) -> None:
        self._chat = chat
        self._routed = routed

    async def chat(
        self, request: ChatRequest, context: grpc.aio.ServicerContext[ChatRequest, ChatChunk]
    ) -> AsyncIterator[ChatChunk]:
        call = chat_request_from_message(request)
        deadline = Deadline.after(context.time_remaining())
        tenant = require_principal().tenant
        if not request.route_id:
            async for part in self._chat.stream(tenant, call, deadline):
                yield chunk_from_part(part)
            return
        async for routed in self._routed.stream(tenant, request.route_id, call, deadline):
            if isinstance(routed, RoutedFinish):
                yield chunk_from_routed_finish(routed)
            else:
                yield chunk_from_part(routed)
