"""RPCs whose behaviour is not built yet answer UNIMPLEMENTED with a message naming them."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import RerankRequest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.support.raw_calls import raw_unary
from tests.support.service import RunningService


async def test_unbuilt_rpc_answers_unimplemented_with_its_name(service: RunningService) -> None:
    stub = EmbeddingServiceStub(service.channel)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.rerank(RerankRequest(), metadata=service.auth())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "EmbeddingService/Rerank" in (raised.value.details() or "")


async def test_a_health_method_the_service_leaves_out_answers_unimplemented(
    service: RunningService,
) -> None:
    list_services = raw_unary(service.channel, "/grpc.health.v1.Health/List")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await list_services(b"")
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert raised.value.details() == "/grpc.health.v1.Health/List is not implemented"
