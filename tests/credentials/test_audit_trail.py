"""Every credential mutation writes exactly one audit event, with the actor, never the secret."""

from __future__ import annotations

from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CredentialConfig,
    CredentialSecret,
    DeleteCredentialRequest,
    DisableCredentialRequest,
    EnableCredentialRequest,
    RotateCredentialRequest,
    UpdateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.store.audit import AuditLog
from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import openai_request
from tests.support.service import RunningService


async def test_each_mutation_writes_one_event_and_a_moved_base_url_is_recorded(
    service: RunningService, credentials: CredentialServiceStub
) -> None:
    key, new_key = new_openai_key(), new_openai_key()
    request = openai_request(key, "http://127.0.0.1:9", skip_verification=True)
    created = (await credentials.create_credential(request, metadata=service.auth())).credential
    await credentials.update_credential(
        UpdateCredentialRequest(id=created.id, name="renamed"), metadata=service.auth()
    )
    await credentials.rotate_credential(
        RotateCredentialRequest(
            id=created.id,
            secret=CredentialSecret(api_key=ApiKeySecret(key=new_key)),
            skip_verification=True,
            config=CredentialConfig(base_url="http://127.0.0.2:9/v1"),
        ),
        metadata=service.auth(),
    )
    await credentials.disable_credential(
        DisableCredentialRequest(id=created.id, reason="suspected leak"), metadata=service.auth()
    )
    await credentials.enable_credential(
        EnableCredentialRequest(id=created.id), metadata=service.auth()
    )
    await credentials.delete_credential(
        DeleteCredentialRequest(id=created.id), metadata=service.auth()
    )
    pool = service.app.runtime.database.pool
    rows = await pool.fetch(
        "SELECT action, actor, target_id, details::text AS details FROM audit_events ORDER BY id"
    )
    assert [row["action"] for row in rows] == [
        "credential.create",
        "credential.update",
        "credential.rotate",
        "credential.disable",
        "credential.enable",
        "credential.delete",
    ]
    assert {row["actor"] for row in rows} == {"subject:user-1"}
    assert {str(row["target_id"]) for row in rows} == {created.id}
    rotate_details = rows[2]["details"]
    assert "http://127.0.0.2:9/v1" in rotate_details
    assert created.config.base_url in rotate_details
    for row in rows:
        assert key not in row["details"] and new_key not in row["details"]
    verification = await AuditLog(pool).verify()
    assert verification.ok and verification.checked == len(rows)
