"""The two-person rule compares one canonical identity: a person is never two spellings."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ConfirmRotationRequest,
    CredentialSecret,
    GetInventoryRequest,
    RequestRotationRequest,
    RotationState,
)

from integration_api.auth.tokens import mint_token
from tests.credentials.helpers import error_info
from tests.ops.support import Caller, Metadata, new_key


def _bearer(
    caller: Caller, organization: str, *, user: str = "", subject: str = "", operator: bool = False
) -> Metadata:
    token = mint_token(
        caller.service.settings.secret,
        organization_id=organization,
        project_id="p1",
        user_id=user,
        subject=subject,
        operator=operator,
    )
    return (("authorization", f"Bearer {token}"),)


async def _opened(caller: Caller, organization: str, requester: Metadata) -> str:
    credential, _ = await caller.stored(organization)
    opened = await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential.id, reason="quarterly"),
        metadata=requester,
    )
    assert opened.rotation is not None
    return opened.rotation.id


async def _confirming(caller: Caller, rotation_id: str, confirmer: Metadata) -> RotationState:
    key = new_key()
    caller.accepted.add(key)
    confirmed = await caller.operations.confirm_rotation(
        ConfirmRotationRequest(
            rotation_id=rotation_id, secret=CredentialSecret(api_key=ApiKeySecret(key=key))
        ),
        metadata=confirmer,
    )
    assert confirmed.rotation is not None
    return confirmed.rotation.state


async def test_user_id_and_sub_of_the_same_name_are_one_person(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    as_user = _bearer(caller, organization, user="op1")
    as_subject = _bearer(caller, "ops", subject="op1", operator=True)
    rotation_id = await _opened(caller, organization, as_user)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _confirming(caller, rotation_id, as_subject)
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(raised.value).reason == "ROTATION_SELF_CONFIRMATION"
    assert await _confirming(caller, rotation_id, caller.operator("op2")) == RotationState.CONFIRMED


async def test_a_user_id_beside_a_sub_does_not_make_another_person(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    requester = _bearer(caller, organization, subject="svc-a")
    same_subject_other_user = _bearer(caller, organization, subject="svc-a", user="bob")
    rotation_id = await _opened(caller, organization, requester)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _confirming(caller, rotation_id, same_subject_other_user)
    assert error_info(raised.value).reason == "ROTATION_SELF_CONFIRMATION"


async def test_a_token_naming_nobody_can_neither_request_nor_confirm(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    nobody = _bearer(caller, organization)
    credential, _ = await caller.stored(organization)
    with pytest.raises(grpc.aio.AioRpcError) as requested:
        await caller.operations.request_rotation(
            RequestRotationRequest(credential_id=credential.id, reason="quarterly"),
            metadata=nobody,
        )
    assert requested.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(requested.value).reason == "ACTOR_UNNAMED"
    rotation_id = await _opened(caller, organization, caller.tenant(organization, user="alice"))
    with pytest.raises(grpc.aio.AioRpcError) as confirmed:
        await _confirming(caller, rotation_id, nobody)
    assert error_info(confirmed.value).reason == "ACTOR_UNNAMED"


async def test_an_operator_token_without_a_subject_is_refused(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    unnamed_operator = _bearer(caller, "ops", user="olga", operator=True)
    rotation_id = await _opened(caller, organization, caller.tenant(organization))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await _confirming(caller, rotation_id, unnamed_operator)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "sub" in (raised.value.details() or "")


async def test_the_rpc_log_names_the_subject_and_shows_a_different_user_id_beside_it(
    caller: Caller, capfd: pytest.CaptureFixture[str]
) -> None:
    request_id = "req-" + uuid.uuid4().hex
    token = _bearer(caller, "org-" + secrets.token_hex(3), subject="svc-a", user="bob")
    await caller.operations.get_inventory(
        GetInventoryRequest(), metadata=(*token, ("x-request-id", request_id))
    )
    logs = ""
    for _attempt in range(50):  # the line is written once the status is sent
        captured = capfd.readouterr()  # stderr once logging is configured, else stdout
        logs += captured.out + captured.err
        if request_id in logs:
            break
        await asyncio.sleep(0.05)
    [line] = [line for line in logs.splitlines() if request_id in line]
    assert "actor=subject:svc-a" in line and "user_id=bob" in line
