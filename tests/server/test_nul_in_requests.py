"""A NUL character in any string of a request is refused by the field's path, never stored."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AuditFilter,
    ChatRequest,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    DisableCredentialsRequest,
    ListAuditEventsRequest,
    ListConnectionsRequest,
    ListCredentialsRequest,
    Message,
    RequestRotationRequest,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    LlmServiceStub,
    OAuthServiceStub,
    OperationsServiceStub,
)

from tests.credentials.helpers import error_info, field_violations
from tests.support.service import RunningService

KEY = "sk-proj-" + "n" * 40
Call = Callable[[RunningService], Awaitable[object]]


def _list_connections(service: RunningService) -> Awaitable[object]:
    return OAuthServiceStub(service.channel).list_connections(
        ListConnectionsRequest(provider="google\x00"), metadata=service.auth()
    )


def _request_rotation(service: RunningService) -> Awaitable[object]:
    return OperationsServiceStub(service.channel).request_rotation(
        RequestRotationRequest(credential_id=str(uuid.uuid4()), reason="leaked\x00"),
        metadata=service.operator_auth(),
    )


def _disable_credentials(service: RunningService) -> Awaitable[object]:
    return OperationsServiceStub(service.channel).disable_credentials(
        DisableCredentialsRequest(organization_id="org\x00", reason="leaked"),
        metadata=service.operator_auth(),
    )


def _audit_actor(service: RunningService) -> Awaitable[object]:
    return OperationsServiceStub(service.channel).list_audit_events(
        ListAuditEventsRequest(filter=AuditFilter(actor="user:\x00")),
        metadata=service.operator_auth(),
    )


CASES: dict[str, tuple[Call, str]] = {
    "list-connections-provider": (_list_connections, "provider"),
    "rotation-reason": (_request_rotation, "reason"),
    "disable-credentials-organization": (_disable_credentials, "organization_id"),
    "audit-actor-filter": (_audit_actor, "filter.actor"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_nul_in_a_request_string_is_invalid_argument_naming_the_field(
    service: RunningService, case: tuple[Call, str]
) -> None:
    call, field = case
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(service)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(raised.value) == {field: "must not contain a NUL character"}
    assert error_info(raised.value).metadata["request_id"]


async def test_a_nul_in_a_repeated_nested_string_is_named_by_its_index(
    service: RunningService,
) -> None:
    request = ChatRequest(
        credential_id=str(uuid.uuid4()),
        messages=[Message(text="hello"), Message(text="bye\x00")],
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _chunk in LlmServiceStub(service.channel).chat(request, metadata=service.auth()):
            pass
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(field_violations(raised.value)) == ["messages[1].text"]


async def test_a_nul_in_a_map_value_names_the_key_and_nothing_is_stored(
    service: RunningService,
) -> None:
    tenant = service.auth(organization_id=f"org-{uuid.uuid4().hex[:8]}")
    stub = CredentialServiceStub(service.channel)
    request = CreateCredentialRequest(
        provider="cartesia",
        name="voice",
        secret=CredentialSecret(api_key=ApiKeySecret(key=KEY)),
        config=CredentialConfig(extra={"cartesia_version": "2026-03-01\x00"}),
        skip_verification=True,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.create_credential(request, metadata=tenant)
    assert list(field_violations(raised.value)) == ["config.extra.cartesia_version"]
    assert (
        await stub.list_credentials(ListCredentialsRequest(), metadata=tenant)
    ).credentials == []


async def test_a_nul_in_a_secret_is_named_and_never_echoed(service: RunningService) -> None:
    secret = "sk-proj-\x00" + uuid.uuid4().hex
    request = CreateCredentialRequest(
        provider="openai",
        name="key",
        secret=CredentialSecret(api_key=ApiKeySecret(key=secret)),
        skip_verification=True,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await CredentialServiceStub(service.channel).create_credential(
            request, metadata=service.auth()
        )
    assert list(field_violations(raised.value)) == ["secret.api_key.key"]
    assert secret[9:] not in str(raised.value.details()) + str(raised.value.trailing_metadata())
