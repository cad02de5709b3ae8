"""An Opstage `rotateKey` is requested by the console user who clicked, never by nobody."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ConfirmRotationRequest,
    CredentialSecret,
    RotationState,
)
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from integration_api.auth.tokens import mint_token
from tests.credentials.helpers import error_info
from tests.fakes.opstage import FakeOpstage
from tests.fakes.server import FakeServer
from tests.ops.test_opstage_agent import _finished, _stored_openai, agent_service, until
from tests.support.service import RunningService

AGENT = "opstage-integration-api-test"


@pytest.fixture
async def opstage() -> AsyncIterator[FakeOpstage]:
    async with FakeServer() as server:
        yield FakeOpstage(server)


async def _rotate_key_as(
    service: RunningService,
    opstage: FakeOpstage,
    openai: FakeServer,
    accepted: set[str],
    user: str | None,
) -> dict[str, Any]:
    """The result of a console `rotateKey` of a newly stored credential, sent as `user`."""
    credential_id = await _stored_openai(service, openai, accepted)
    await until(lambda: any(s["code"] == "provider-openai" for s in opstage.services.values()))
    await until(lambda: opstage.only_agent().status == "ONLINE")
    return await _finished(
        opstage.request_action(
            "provider-openai",
            "rotateKey",
            {"credentialId": credential_id, "reason": "quarterly"},
            confirmation=True,
            user=user,
        )
    )


async def _rotation_opened_by(
    service: RunningService,
    opstage: FakeOpstage,
    openai: FakeServer,
    accepted: set[str],
    user: str | None,
) -> dict[str, str]:
    result = await _rotate_key_as(service, opstage, openai, accepted, user)
    assert result["success"], result
    data: dict[str, str] = result["data"]
    return data


async def _confirm_as(
    service: RunningService, rotation_id: str, subject: str, accepted: set[str]
) -> RotationState:
    key = "sk-proj-" + secrets.token_urlsafe(24)
    accepted.add(key)
    token = mint_token(
        service.settings.secret, organization_id="o", project_id="p", subject=subject, operator=True
    )
    confirmed = await OperationsServiceStub(service.channel).confirm_rotation(
        ConfirmRotationRequest(
            rotation_id=rotation_id, secret=CredentialSecret(api_key=ApiKeySecret(key=key))
        ),
        metadata=(("authorization", f"Bearer {token}"),),
    )
    assert confirmed.rotation is not None
    return confirmed.rotation.state


async def test_the_console_user_who_clicked_rotate_cannot_confirm_it(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    openai, accepted = openai_fake
    async with agent_service(
        empty_database_dsn, opstage, opstage.issue_registration_token()
    ) as service:
        opened = await _rotation_opened_by(service, opstage, openai, accepted, "usr_alice")
        assert opened["requestedBy"] == "subject:usr_alice"
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _confirm_as(service, opened["rotationId"], "usr_alice", accepted)
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(raised.value).reason == "ROTATION_SELF_CONFIRMATION"
        confirmed = await _confirm_as(service, opened["rotationId"], "usr_bob", accepted)
        assert confirmed == RotationState.CONFIRMED
        assert service.app.runtime is not None
        requested = await service.app.runtime.database.pool.fetchrow(
            "SELECT actor, details->>'via' AS via FROM audit_events"
            " WHERE action = 'rotation.request' AND details->>'credential_id' = $1",
            opened["credentialId"],
        )
        assert requested is not None
        assert (requested["actor"], requested["via"]) == ("subject:usr_alice", f"subject:{AGENT}")


async def test_a_rotation_no_person_asked_for_cannot_be_confirmed_as_the_agent(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    openai, accepted = openai_fake
    async with agent_service(
        empty_database_dsn, opstage, opstage.issue_registration_token()
    ) as service:
        opened = await _rotation_opened_by(service, opstage, openai, accepted, None)
        assert opened["requestedBy"] == f"subject:{AGENT}"
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _confirm_as(service, opened["rotationId"], AGENT, accepted)
        assert error_info(raised.value).reason == "ROTATION_SELF_CONFIRMATION"


async def test_a_command_naming_an_unusable_console_user_is_refused(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    openai, accepted = openai_fake
    async with agent_service(
        empty_database_dsn, opstage, opstage.issue_registration_token()
    ) as service:
        result = await _rotate_key_as(service, opstage, openai, accepted, "usr_x\nforged")
        assert not result["success"] and result["error"]["code"] == "ACTION_FAILED"
