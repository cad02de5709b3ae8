"""A method the service leaves out answers UNIMPLEMENTED with a message naming it."""

from __future__ import annotations

import grpc
import pytest

from tests.support.raw_calls import raw_unary
from tests.support.service import RunningService


async def test_a_health_method_the_service_leaves_out_answers_unimplemented(
    service: RunningService,
) -> None:
    list_services = raw_unary(service.channel, "/grpc.health.v1.Health/List")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await list_services(b"")
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert raised.value.details() == "/grpc.health.v1.Health/List is not implemented"
