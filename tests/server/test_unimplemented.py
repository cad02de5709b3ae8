"""RPCs whose behaviour is not built yet answer UNIMPLEMENTED with a message naming them."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import StartAuthorizationRequest
from integration_api_proto.integration.v1.grpc_aio import OAuthServiceStub

from tests.support.service import RunningService


async def test_unbuilt_rpc_answers_unimplemented_with_its_name(service: RunningService) -> None:
    stub = OAuthServiceStub(service.channel)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.start_authorization(StartAuthorizationRequest(), metadata=service.auth())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "OAuthService/StartAuthorization" in (raised.value.details() or "")
