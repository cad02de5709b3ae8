from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from integration_api.errors import Aborted, AlreadyExists, InvalidArgument, NotFound
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.credentials import CredentialRepository
from integration_api.store.models import CredentialRow, HealthCheckRecord
from tests.store.factories import PAGE_TOKENS, audit_event, new_credential


async def create(
    repository: CredentialRepository, tenant: Tenant, **overrides: Any
) -> CredentialRow:
    credential = new_credential(tenant, **overrides)
    return await repository.insert(
        credential, audit_event(tenant, "credential.create", credential.id)
    )


def a_check(outcome: str = "valid") -> HealthCheckRecord:
    return HealthCheckRecord(
        checked_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        outcome=outcome,
        latency_ms=42,
        message="HTTP 200",
    )


async def test_insert_stores_every_field_and_get_returns_it(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    credential = new_credential(tenant, provider="anthropic", config={"region": "eu", "n": [1]})
    inserted = await repository.insert(
        credential, audit_event(tenant, "credential.create", credential.id)
    )
    fetched = await repository.get(tenant, credential.id)
    assert fetched == inserted
    assert fetched.id == credential.id
    assert fetched.tenant == tenant
    assert (fetched.provider, fetched.name) == ("anthropic", credential.name)
    assert fetched.config == {"region": "eu", "n": [1]}
    assert fetched.ciphertext == credential.ciphertext
    assert (fetched.key_id, fetched.secret_hint) == (credential.key_id, credential.secret_hint)
    assert fetched.fingerprint == credential.fingerprint
    assert (fetched.status, fetched.status_reason) == ("active", "")
    assert fetched.last_check is None
    assert fetched.rotated_at is None
    assert fetched.created_by == "user:alice"
    assert fetched.created_at == fetched.updated_at
    assert fetched.version == 1


async def test_repr_of_a_row_leaves_out_the_ciphertext(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    assert row.ciphertext.hex() not in repr(row)
    assert "ciphertext" not in repr(row)


async def test_a_duplicate_name_in_the_same_tenant_is_already_exists_on_name(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    await create(repository, tenant, name="production")
    with pytest.raises(AlreadyExists) as raised:
        await create(repository, tenant, name="production")
    assert raised.value.message.startswith("name:")
    assert raised.value.metadata == {"field": "name"}


async def test_the_same_name_in_another_tenant_is_allowed(
    repository: CredentialRepository, tenant: Tenant, other_tenant: Tenant
) -> None:
    first = await create(repository, tenant, name="production")
    second = await create(repository, other_tenant, name="production")
    assert first.id != second.id


async def test_an_id_that_is_not_a_uuid_is_refused_on_insert(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    credential = new_credential(tenant)
    bad = type(credential)(**{**credential.__dict__, "id": "not-a-uuid"})
    with pytest.raises(InvalidArgument) as raised:
        await repository.insert(bad, audit_event(tenant, "credential.create", "x"))
    assert raised.value.violations[0].field == "id"


async def test_an_unknown_status_is_invalid_argument(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        await create(repository, tenant, status="enabled")
    assert raised.value.violations[0].field == "status"


async def test_get_of_an_unknown_id_is_not_found(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    with pytest.raises(NotFound):
        await repository.get(tenant, str(uuid.uuid4()))


@pytest.mark.parametrize(
    "malformed", ["", "abc", "'; DROP TABLE credentials; --", "sk-" + "x" * 40]
)
async def test_get_of_a_malformed_id_is_not_found_without_echoing_it(
    repository: CredentialRepository, tenant: Tenant, malformed: str
) -> None:
    with pytest.raises(NotFound) as raised:
        await repository.get(tenant, malformed)
    assert raised.value.message == "credential not found"


async def test_update_metadata_renames_replaces_config_and_bumps_version(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    updated = await repository.update_metadata(
        tenant,
        row.id,
        expected_version=1,
        name="renamed",
        config={"default_model": "gpt-x"},
        audit=audit_event(tenant, "credential.update", row.id),
    )
    assert (updated.name, updated.config, updated.version) == (
        "renamed",
        {"default_model": "gpt-x"},
        2,
    )
    assert updated.updated_at > row.updated_at
    assert updated.ciphertext == row.ciphertext
    only_config = await repository.update_metadata(
        tenant, row.id, expected_version=None, config={}, audit=audit_event(tenant, "x", row.id)
    )
    assert (only_config.name, only_config.config, only_config.version) == ("renamed", {}, 3)


async def test_renaming_to_a_taken_name_is_already_exists(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    await create(repository, tenant, name="taken")
    row = await create(repository, tenant, name="free")
    with pytest.raises(AlreadyExists) as raised:
        await repository.update_metadata(
            tenant,
            row.id,
            expected_version=1,
            name="taken",
            audit=audit_event(tenant, "credential.update", row.id),
        )
    assert raised.value.metadata == {"field": "name"}
    assert (await repository.get(tenant, row.id)).name == "free"


async def test_an_update_with_a_stale_version_is_aborted(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    await repository.update_metadata(
        tenant, row.id, expected_version=1, name="first", audit=audit_event(tenant, "u", row.id)
    )
    with pytest.raises(Aborted) as raised:
        await repository.update_metadata(
            tenant,
            row.id,
            expected_version=1,
            name="second",
            audit=audit_event(tenant, "u", row.id),
        )
    assert raised.value.metadata == {"current_version": "2"}
    assert (await repository.get(tenant, row.id)).name == "first"


async def test_concurrent_updates_with_the_same_version_let_exactly_one_win(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    names = [f"writer-{index}" for index in range(6)]
    results = await asyncio.gather(
        *(
            repository.update_metadata(
                tenant,
                row.id,
                expected_version=1,
                name=name,
                audit=audit_event(tenant, "u", row.id),
            )
            for name in names
        ),
        return_exceptions=True,
    )
    winners = [result for result in results if isinstance(result, CredentialRow)]
    losers = [result for result in results if isinstance(result, Aborted)]
    assert len(winners) == 1
    assert len(losers) == len(names) - 1
    stored = await repository.get(tenant, row.id)
    assert (stored.name, stored.version) == (winners[0].name, 2)


async def test_replace_secret_swaps_the_secret_and_forgets_the_last_check(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    checked = await repository.record_check(tenant, row.id, a_check("invalid"))
    assert checked.last_check == a_check("invalid")
    replaced = await repository.replace_secret(
        tenant,
        row.id,
        expected_version=1,
        ciphertext=b"new-ciphertext",
        key_id="k0000000000000002",
        secret_hint="…wxyz",
        fingerprint="new-fingerprint",
        rotated_by="user:bob",
        status="unverified",
        audit=audit_event(tenant, "credential.rotate", row.id),
    )
    assert replaced.ciphertext == b"new-ciphertext"
    assert (replaced.key_id, replaced.secret_hint) == ("k0000000000000002", "…wxyz")
    assert (replaced.fingerprint, replaced.status) == ("new-fingerprint", "unverified")
    assert replaced.rotated_by == "user:bob"
    assert replaced.rotated_at is not None
    assert replaced.last_check is None
    assert replaced.version == 2
    assert replaced.config == row.config


async def test_replace_secret_with_a_stale_version_keeps_the_old_secret(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    with pytest.raises(Aborted):
        await repository.replace_secret(
            tenant,
            row.id,
            expected_version=7,
            ciphertext=b"new",
            key_id="k",
            secret_hint="",
            fingerprint="f",
            rotated_by="user:bob",
            status="active",
            audit=audit_event(tenant, "credential.rotate", row.id),
        )
    assert (await repository.get(tenant, row.id)).ciphertext == row.ciphertext


async def test_set_status_records_status_and_reason(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    disabled = await repository.set_status(
        tenant,
        row.id,
        status="disabled",
        reason="leaked in a log",
        audit=audit_event(tenant, "credential.disable", row.id),
    )
    assert (disabled.status, disabled.status_reason, disabled.version) == (
        "disabled",
        "leaked in a log",
        2,
    )


async def test_record_check_stores_the_outcome_without_bumping_version(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    checked = await repository.record_check(tenant, row.id, a_check())
    assert checked.last_check == a_check()
    assert (checked.version, checked.status, checked.updated_at) == (1, "active", row.updated_at)
    demoted = await repository.record_check(
        tenant,
        row.id,
        a_check("invalid"),
        new_status="unverified",
        status_reason="401 from provider",
    )
    assert (demoted.status, demoted.status_reason, demoted.version) == (
        "unverified",
        "401 from provider",
        1,
    )
    assert demoted.updated_at > row.updated_at
    # An edit made with the version read before the checks still goes through.
    renamed = await repository.update_metadata(
        tenant, row.id, expected_version=1, name="renamed", audit=audit_event(tenant, "u", row.id)
    )
    assert renamed.version == 2


async def test_a_check_of_a_secret_replaced_meanwhile_is_aborted(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant)
    await repository.replace_secret(
        tenant,
        row.id,
        expected_version=None,
        ciphertext=b"new",
        key_id="k",
        secret_hint="",
        fingerprint="f",
        rotated_by="user:bob",
        status="active",
        audit=audit_event(tenant, "credential.rotate", row.id),
    )
    with pytest.raises(Aborted):
        await repository.record_check(
            tenant, row.id, a_check("invalid"), new_status="unverified", expected_version=1
        )
    stored = await repository.get(tenant, row.id)
    assert (stored.status, stored.last_check) == ("active", None)


async def test_delete_removes_the_row_for_good(
    repository: CredentialRepository, tenant: Tenant
) -> None:
    row = await create(repository, tenant, name="doomed")
    await repository.delete(tenant, row.id, audit_event(tenant, "credential.delete", row.id))
    with pytest.raises(NotFound):
        await repository.get(tenant, row.id)
    with pytest.raises(NotFound):
        await repository.delete(tenant, row.id, audit_event(tenant, "credential.delete", row.id))
    recreated = await create(repository, tenant, name="doomed")
    assert recreated.id != row.id


async def test_an_audit_event_of_another_tenant_is_refused(
    repository: CredentialRepository, tenant: Tenant, other_tenant: Tenant, audit_log: AuditLog
) -> None:
    credential = new_credential(tenant)
    with pytest.raises(ValueError, match="tenant"):
        await repository.insert(credential, audit_event(other_tenant, "credential.create", "x"))
    with pytest.raises(NotFound):
        await repository.get(tenant, credential.id)
    assert (await audit_log.list(other_tenant, tokens=PAGE_TOKENS))[0] == []
