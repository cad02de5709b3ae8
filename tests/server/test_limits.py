"""Transport limits hold: oversized messages are refused before any handler runs."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import GetCredentialRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.config import GrpcLimits
from tests.support.service import running_service


async def test_request_over_the_message_limit_is_resource_exhausted(postgres_dsn: str) -> None:
    async with running_service(postgres_dsn, grpc=GrpcLimits(max_message_bytes=2048)) as service:
        stub = CredentialServiceStub(service.channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.get_credential(GetCredentialRequest(id="x" * 4096), metadata=service.auth())
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        with pytest.raises(grpc.aio.AioRpcError) as small:
            await stub.get_credential(GetCredentialRequest(id="x" * 100), metadata=service.auth())
        assert small.value.code() == grpc.StatusCode.NOT_FOUND
