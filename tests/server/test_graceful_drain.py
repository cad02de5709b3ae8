"""Shutdown drains: a chat stream in flight when stopping begins finishes whole and OK."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from integration_api_proto.integration.v1 import ChatChunk, ChatRequest, ListCredentialsRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from tests.fakes.replay import ReplayServer, Reply
from tests.llm.support import user_says
from tests.llm.upstreams import key_for, store_credential
from tests.support.service import running_service


async def test_stream_in_flight_finishes_while_new_calls_are_refused(
    empty_database_dsn: str,
) -> None:
    async with (
        ReplayServer("openai") as replay,
        running_service(empty_database_dsn, shutdown_grace_seconds=10.0) as service,
    ):
        credential_id = await store_credential(
            service, "openai", replay.base_url, key_for("openai")
        )
        replay.play(Reply("text.sse", event_delay=0.05))  # the answer takes a while
        call = LlmServiceStub(service.channel).chat(
            ChatRequest(credential_id=credential_id, messages=user_says()),
            metadata=service.auth(),
        )
        first = await call.read()
        assert first is not grpc.aio.EOF
        stopping = asyncio.create_task(service.app.stop())
        await asyncio.sleep(0.05)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await CredentialServiceStub(service.channel).list_credentials(
                ListCredentialsRequest(), metadata=service.auth(), timeout=2
            )
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        kinds = []
        while isinstance(chunk := await call.read(), ChatChunk):
            kinds.append("finish" if chunk.finish is not None else "other")
        await stopping
    assert kinds[-1] == "finish"
    assert len(kinds) >= 3
    assert await call.code() == grpc.StatusCode.OK
