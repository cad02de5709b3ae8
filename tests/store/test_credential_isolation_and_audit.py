"""Tenant isolation, and the audit event that every change writes in its own transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from integration_api.errors import Aborted, AlreadyExists, NotFound
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.credentials import CredentialRepository
from integration_api.store.models import CredentialRow, HealthCheckRecord
from tests.store.factories import PAGE_TOKENS, audit_event, new_credential

Operation = Callable[[CredentialRepository, Tenant, str], Awaitable[object]]


async def _get(repository: CredentialRepository, tenant: Tenant, credential_id: str) -> object:
    return await repository.get(tenant, credential_id)


async def _update(repository: CredentialRepository, tenant: Tenant, credential_id: str) -> object:
    return await repository.update_metadata(
        tenant,
        credential_id,
        expected_version=None,
        name="hijacked",
        audit=audit_event(tenant, "credential.update", credential_id),
    )


async def _replace(repository: CredentialRepository, tenant: Tenant, credential_id: str) -> object:
    return await repository.replace_secret(
        tenant,
        credential_id,
        expected_version=None,
        ciphertext=b"attacker",
        key_id="k",
        secret_hint="",
        fingerprint="f",
        rotated_by="user:mallory",
        status="active",
        audit=audit_event(tenant, "credential.rotate", credential_id),
    )


async def _set_status(
    repository: CredentialRepository, tenant: Tenant, credential_id: str
) -> object:
    return await repository.set_status(
        tenant,
        credential_id,
        status="disabled",
        reason="",
        audit=audit_event(tenant, "credential.disable", credential_id),
    )


async def _record_check(
    repository: CredentialRepository, tenant: Tenant, credential_id: str
) -> object:
    check = HealthCheckRecord(datetime.now(UTC), "invalid", 1, "")
    return await repository.record_check(tenant, credential_id, check, new_status="unverified")


async def _delete(repository: CredentialRepository, tenant: Tenant, credential_id: str) -> object:
    await repository.delete(tenant, credential_id, audit_event(tenant, "credential.delete", "x"))
    return None


OPERATIONS: dict[str, Operation] = {
    "get": _get,
    "update_metadata": _update,
    "replace_secret": _replace,
    "set_status": _set_status,
    "record_check": _record_check,
    "delete": _delete,
}


async def create(repository: CredentialRepository, tenant: Tenant, name: str = "") -> CredentialRow:
    credential = new_credential(tenant, name=name or None)
    return await repository.insert(
        credential, audit_event(tenant, "credential.create", credential.id)
    )


async def actions(audit_log: AuditLog, tenant: Tenant) -> list[str]:
    events, _ = await audit_log.list(tenant, page_size=100, tokens=PAGE_TOKENS)
    return [stored.event.action for stored in reversed(events)]


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
async def test_another_tenants_id_behaves_like_a_missing_one(
    repository: CredentialRepository,
    audit_log: AuditLog,
    tenant: Tenant,
    other_tenant: Tenant,
    operation: Operation,
) -> None:
    victim = await create(repository, tenant)
    same_organization = Tenant(tenant.organization_id, other_tenant.project_id)
    for intruder in (other_tenant, same_organization):
        with pytest.raises(NotFound) as raised:
            await operation(repository, intruder, victim.id)
        assert raised.value.message == f"credential {victim.id} not found"
        assert await actions(audit_log, intruder) == []
    assert await repository.get(tenant, victim.id) == victim
    assert await actions(audit_log, tenant) == ["credential.create"]


async def test_another_tenants_credentials_never_appear_in_a_list(
    repository: CredentialRepository, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = await create(repository, tenant)
    await create(repository, other_tenant)
    rows, _ = await repository.list(tenant, tokens=PAGE_TOKENS)
    assert [row.id for row in rows] == [mine.id]


async def test_each_change_writes_exactly_one_audit_event(
    repository: CredentialRepository, audit_log: AuditLog, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    await _update(repository, tenant, row.id)
    await _replace(repository, tenant, row.id)
    await _set_status(repository, tenant, row.id)
    await _record_check(repository, tenant, row.id)
    await _delete(repository, tenant, row.id)
    assert await actions(audit_log, tenant) == [
        "credential.create",
        "credential.update",
        "credential.rotate",
        "credential.disable",
        "credential.delete",
    ]


async def test_the_audit_event_carries_what_the_caller_described(
    repository: CredentialRepository, audit_log: AuditLog, tenant: Tenant
) -> None:
    credential = new_credential(tenant)
    event = audit_event(
        tenant, "credential.create", credential.id, details={"provider": "openai", "n": 1}
    )
    await repository.insert(credential, event)
    events, _ = await audit_log.list(tenant, tokens=PAGE_TOKENS)
    assert [stored.event for stored in events] == [event]
    assert events[0].occurred_at.tzinfo is not None


async def test_a_failed_change_writes_no_audit_event(
    repository: CredentialRepository, audit_log: AuditLog, tenant: Tenant
) -> None:
    row = await create(repository, tenant, name="taken")
    other = await create(repository, tenant, name="other")
    failures: list[tuple[type[Exception], Callable[[], Awaitable[object]]]] = [
        (AlreadyExists, lambda: create(repository, tenant, name="taken")),
        (
            AlreadyExists,
            lambda: repository.update_metadata(
                tenant,
                other.id,
                expected_version=None,
                name="taken",
                audit=audit_event(tenant, "credential.update", other.id),
            ),
        ),
        (
            Aborted,
            lambda: repository.update_metadata(
                tenant,
                row.id,
                expected_version=9,
                name="new",
                audit=audit_event(tenant, "credential.update", row.id),
            ),
        ),
        (NotFound, lambda: _delete(repository, tenant, "00000000-0000-4000-8000-000000000000")),
    ]
    for error_type, attempt in failures:
        with pytest.raises(error_type):
            await attempt()
    assert await actions(audit_log, tenant) == ["credential.create", "credential.create"]


async def test_a_change_whose_audit_event_cannot_be_stored_does_not_happen(
    repository: CredentialRepository, audit_log: AuditLog, tenant: Tenant
) -> None:
    row = await create(repository, tenant, name="before")
    # PostgreSQL refuses NUL in JSONB text, so this event fails inside the transaction.
    unstorable = audit_event(tenant, "credential.update", row.id, details={"note": "\x00"})
    with pytest.raises(asyncpg.UntranslatableCharacterError):
        await repository.update_metadata(
            tenant, row.id, expected_version=1, name="after", audit=unstorable
        )
    stored = await repository.get(tenant, row.id)
    assert (stored.name, stored.version) == ("before", 1)
    assert await actions(audit_log, tenant) == ["credential.create"]
