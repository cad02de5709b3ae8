"""Every RPC but health and reflection needs a valid HS256 service token."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import ChatRequest, ListCredentialsRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from tests.support.health_client import check_status
from tests.support.service import RunningService


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"organizationId": "org-1", "projectId": "project-1", "exp": now + 600, "iat": now}
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _unsigned(claims: dict[str, Any]) -> str:
    def segment(value: dict[str, Any]) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}."


def bad_tokens(secret: str) -> dict[str, str | None]:
    now = int(time.time())
    return {
        "no token": None,
        "wrong secret": jwt.encode(_claims(), "another-secret-" + "x" * 32, algorithm="HS256"),
        "alg none": _unsigned(_claims()),
        "HS512 header": jwt.encode(_claims(), secret, algorithm="HS512"),
        "expired": jwt.encode(_claims(exp=now - 120), secret, algorithm="HS256"),
        "nbf in the future": jwt.encode(_claims(nbf=now + 600), secret, algorithm="HS256"),
        "missing exp": jwt.encode(_claims(exp=None), secret, algorithm="HS256"),
        "no tenant": jwt.encode(_claims(organizationId=None), secret, algorithm="HS256"),
        "garbage": "not-a-jwt",
        "a century long": jwt.encode(_claims(exp=now + 100 * 365 * 86400), secret, "HS256"),
        "numeric tenant ids": jwt.encode(_claims(organizationId=1, projectId=2), secret, "HS256"),
        "id with a trailing nbsp": jwt.encode(
            _claims(organizationId="org-1\u00a0"), secret, "HS256"
        ),
        "id with a control character": jwt.encode(_claims(projectId="p\x07"), secret, "HS256"),
    }


CASES = [
    "no token",
    "wrong secret",
    "alg none",
    "HS512 header",
    "expired",
    "nbf in the future",
    "missing exp",
    "no tenant",
    "garbage",
    "a century long",
    "numeric tenant ids",
    "id with a trailing nbsp",
    "id with a control character",
]


def _metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return () if token is None else (("authorization", f"Bearer {token}"),)


@pytest.mark.parametrize("case", CASES)
async def test_unary_rpc_rejects_bad_token_as_unauthenticated(
    service: RunningService, case: str
) -> None:
    token = bad_tokens(service.settings.secret)[case]
    stub = CredentialServiceStub(service.channel)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.list_credentials(ListCredentialsRequest(), metadata=_metadata(token))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    if token:
        assert token not in (raised.value.details() or "")


@pytest.mark.parametrize("case", CASES)
async def test_streaming_rpc_rejects_bad_token_as_unauthenticated(
    service: RunningService, case: str
) -> None:
    token = bad_tokens(service.settings.secret)[case]
    stream = LlmServiceStub(service.channel).chat(ChatRequest(), metadata=_metadata(token))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _chunk in stream:
            pass
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_valid_bearer_token_is_let_through(service: RunningService) -> None:
    stub = CredentialServiceStub(service.channel)
    reply = await stub.list_credentials(ListCredentialsRequest(), metadata=service.auth())
    assert reply.next_page_token == ""


async def test_platform_internal_service_key_header_is_accepted(service: RunningService) -> None:
    stub = CredentialServiceStub(service.channel)
    metadata = (("x-internal-service-key", service.token()),)
    reply = await stub.list_credentials(ListCredentialsRequest(), metadata=metadata)
    assert reply.next_page_token == ""


async def _refusal(service: RunningService, metadata: tuple[tuple[str, str], ...]) -> str:
    stub = CredentialServiceStub(service.channel)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.list_credentials(ListCredentialsRequest(), metadata=metadata)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    return raised.value.details() or ""


@pytest.mark.parametrize("scheme", ["", "Token ", "Basic ", "JWT "])
async def test_a_token_without_the_bearer_scheme_is_told_so(
    service: RunningService, scheme: str
) -> None:
    reason = await _refusal(service, (("authorization", scheme + service.token()),))
    assert reason.startswith("authorization must use the Bearer scheme")


async def test_a_bearer_header_without_a_token_is_told_so(service: RunningService) -> None:
    reason = await _refusal(service, (("authorization", "Bearer   "),))
    assert reason == "authorization names the Bearer scheme but carries no token"


async def test_numeric_tenant_ids_are_refused_with_a_plain_reason(service: RunningService) -> None:
    token = jwt.encode(_claims(organizationId=2118, projectId=77), service.settings.secret, "HS256")
    reason = await _refusal(service, _metadata(token))
    assert reason == "token organizationId must be a string"


async def test_health_needs_no_token(service: RunningService) -> None:
    assert await check_status(service.channel) == health_pb2.HealthCheckResponse.SERVING
