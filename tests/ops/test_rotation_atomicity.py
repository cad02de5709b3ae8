"""A confirmation swaps the key, confirms the rotation and files both audit events together."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AuditFilter,
    ConfirmRotationRequest,
    CredentialSecret,
    GetCredentialRequest,
    ListAuditEventsRequest,
    RequestRotationRequest,
    RotationState,
)

from tests.ops.database import FAILING_WRITES, failing_confirmation
from tests.ops.support import Caller, new_key


def api_key(key: str) -> CredentialSecret:
    return CredentialSecret(api_key=ApiKeySecret(key=key))


@pytest.mark.parametrize("failing_write", sorted(FAILING_WRITES))
async def test_a_confirmation_that_fails_to_commit_leaves_the_key_and_the_rotation_open(
    caller: Caller, failing_write: str
) -> None:
    organization = "org-atomic-" + failing_write
    credential, old_key = await caller.stored(organization)
    opened = await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential.id, reason="quarterly"),
        metadata=caller.tenant(organization, user="alice"),
    )
    assert opened.rotation is not None
    rotation_id = opened.rotation.id
    replacement = new_key()
    caller.accepted.add(replacement)
    confirm = ConfirmRotationRequest(rotation_id=rotation_id, secret=api_key(replacement))
    async with failing_confirmation(caller.service, failing_write, rotation_id):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await caller.operations.confirm_rotation(confirm, metadata=caller.operator())
    assert raised.value.code() == grpc.StatusCode.INTERNAL

    stored = await caller.credentials.get_credential(
        GetCredentialRequest(id=credential.id), metadata=caller.tenant(organization)
    )
    assert stored.credential is not None
    assert stored.credential.secret_hint == "…" + old_key[-4:]
    assert (stored.credential.version, stored.credential.rotated_by) == (credential.version, "")
    pool = caller.service.app.runtime.database.pool
    state = await pool.fetchval("SELECT state FROM rotations WHERE id = $1::uuid", rotation_id)
    assert state == "pending"
    rotated = await caller.operations.list_audit_events(
        ListAuditEventsRequest(
            filter=AuditFilter(
                action="credential.rotate",
                target_id=credential.id,
                organization_id=organization,
                project_id="p1",
            )
        ),
        metadata=caller.operator(),
    )
    assert rotated.events == []

    confirmed = await caller.operations.confirm_rotation(confirm, metadata=caller.operator())
    assert confirmed.rotation is not None and confirmed.credential is not None
    assert confirmed.rotation.state == RotationState.CONFIRMED
    assert confirmed.credential.secret_hint == "…" + replacement[-4:]


async def test_of_two_simultaneous_confirmations_exactly_one_swaps_its_key(caller: Caller) -> None:
    organization = "org-atomic-race"
    credential, _ = await caller.stored(organization)
    opened = await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential.id, reason="suspected leak"),
        metadata=caller.tenant(organization, user="alice"),
    )
    assert opened.rotation is not None
    keys = [new_key(), new_key()]
    caller.accepted.update(keys)
    answers = await asyncio.gather(
        *(
            caller.operations.confirm_rotation(
                ConfirmRotationRequest(rotation_id=opened.rotation.id, secret=api_key(key)),
                metadata=caller.operator(user=user),
            )
            for key, user in zip(keys, ["olga", "omar"], strict=True)
        ),
        return_exceptions=True,
    )
    won = [answer for answer in answers if not isinstance(answer, BaseException)]
    lost = [answer for answer in answers if isinstance(answer, grpc.aio.AioRpcError)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED)
    stored = await caller.credentials.get_credential(
        GetCredentialRequest(id=credential.id), metadata=caller.tenant(organization)
    )
    assert won[0].credential is not None and stored.credential is not None
    assert stored.credential.secret_hint == won[0].credential.secret_hint
    assert stored.credential.version == credential.version + 1
