"""Bytes that are not a valid request are refused as such, never half-decoded or left to grpc."""

from __future__ import annotations

import asyncio
import logging
import uuid

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialSecret,
    ListCredentialsRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.credentials.helpers import error_info
from tests.support.raw_calls import raw_bidirectional_stream, raw_unary
from tests.support.service import RunningService

CREATE = "/integration.v1.CredentialService/CreateCredential"
KEY = "sk-proj-" + "k" * 40


def _create_bytes() -> bytes:
    request = CreateCredentialRequest(
        provider="openai", name="strict", secret=CredentialSecret(api_key=ApiKeySecret(key=KEY))
    )
    # Fields may come in any order: with the secret written last, cutting bytes off the end
    # shortens the key itself.
    data = bytes(CreateCredentialRequest(skip_verification=True)) + bytes(request)
    assert data.endswith(KEY.encode())
    return data


TRUNCATED_SECRET = _create_bytes()[:-5]
INVALID_UTF8 = _create_bytes().replace(b"strict", b"str\xff\xfet")


def _tenant(service: RunningService) -> tuple[tuple[str, str], ...]:
    # A tenant of this test's own: the session database is shared with other tests.
    return service.auth(organization_id=f"org-{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize(
    "data", [TRUNCATED_SECRET, INVALID_UTF8], ids=["truncated-secret", "invalid-utf8"]
)
async def test_a_request_that_is_not_valid_protobuf_is_invalid_argument_and_stores_nothing(
    service: RunningService, data: bytes
) -> None:
    tenant = _tenant(service)
    create = raw_unary(service.channel, CREATE)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await create(data, metadata=tenant)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == "the request is not a valid CreateCredentialRequest"
    assert error_info(raised.value).reason == "MALFORMED_REQUEST"
    listed = await CredentialServiceStub(service.channel).list_credentials(
        ListCredentialsRequest(), metadata=tenant
    )
    assert listed.credentials == []


async def test_an_undecodable_request_logs_one_line_with_its_request_id_and_no_traceback(
    service: RunningService,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    request_id = "req-" + uuid.uuid4().hex
    create = raw_unary(service.channel, CREATE)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await create(INVALID_UTF8, metadata=(*_tenant(service), ("x-request-id", request_id)))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(raised.value).metadata["request_id"] == request_id
    # The server writes its line once the status is sent: the caller may see the status first.
    logs = ""
    for _attempt in range(50):
        captured = capfd.readouterr()
        logs += captured.out + captured.err
        if request_id in logs + caplog.text:
            break
        await asyncio.sleep(0.05)
    logs += caplog.text
    assert "Traceback" not in logs
    assert "codec" not in logs and "Unicode" not in logs
    lines = [line for line in logs.splitlines() if request_id in line]
    assert len(lines) == 1 and "INVALID_ARGUMENT" in lines[0]


async def test_an_undecodable_reflection_request_is_invalid_argument(
    service: RunningService,
) -> None:
    call = raw_bidirectional_stream(
        service.channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _reply in call(iter([b"\x0a\xff\xff"])):
            pass
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.details() == "the request is not a valid ServerReflectionRequest"
