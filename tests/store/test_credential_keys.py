from __future__ import annotations

import asyncio

import pytest

from integration_api.principal import Tenant
from integration_api.store.credentials import CredentialRepository
from integration_api.store.database import ConnectionPool
from integration_api.store.models import CredentialRow
from tests.store.factories import audit_event, new_credential, unique_tenant
from tests.support.credential_keys import CredentialKeyRepository

OLD_KEY = "k1111111111111111"
NEW_KEY = "k2222222222222222"


@pytest.fixture
def credentials(fresh_pool: ConnectionPool) -> CredentialRepository:
    return CredentialRepository(fresh_pool)


async def create(
    credentials: CredentialRepository, tenant: Tenant, key_id: str = OLD_KEY
) -> CredentialRow:
    credential = new_credential(tenant, key_id=key_id)
    return await credentials.insert(
        credential, audit_event(tenant, "credential.create", credential.id)
    )


async def rotate_secret(
    credentials: CredentialRepository, row: CredentialRow, ciphertext: bytes
) -> CredentialRow:
    return await credentials.replace_secret(
        row.tenant,
        row.id,
        expected_version=None,
        ciphertext=ciphertext,
        key_id=NEW_KEY,
        secret_hint="…new1",
        fingerprint="fingerprint-of-new-secret",
        rotated_by="user:bob",
        status="unverified",
        audit=audit_event(row.tenant, "credential.rotate", row.id),
    )


async def test_counts_and_key_ids_span_every_tenant(
    key_repository: CredentialKeyRepository, credentials: CredentialRepository
) -> None:
    assert await key_repository.count_by_key_id() == {}
    for tenant in (unique_tenant(), unique_tenant()):
        await create(credentials, tenant, OLD_KEY)
        await create(credentials, tenant, OLD_KEY)
    await create(credentials, unique_tenant(), NEW_KEY)
    assert await key_repository.count_by_key_id() == {OLD_KEY: 4, NEW_KEY: 1}
    assert await key_repository.distinct_key_ids() == {OLD_KEY, NEW_KEY}


async def test_rows_not_on_key_lists_only_rows_of_other_keys_in_batches(
    key_repository: CredentialKeyRepository, credentials: CredentialRepository
) -> None:
    old_rows = [await create(credentials, unique_tenant(), OLD_KEY) for _ in range(5)]
    await create(credentials, unique_tenant(), NEW_KEY)
    first = await key_repository.rows_not_on_key(NEW_KEY, limit=3)
    rest = await key_repository.rows_not_on_key(NEW_KEY, limit=3, after_id=first[-1].id)
    listed = first + rest
    assert sorted(candidate.id for candidate in listed) == sorted(row.id for row in old_rows)
    by_id = {row.id: row for row in old_rows}
    for candidate in listed:
        row = by_id[candidate.id]
        assert (candidate.organization_id, candidate.project_id) == (
            row.organization_id,
            row.project_id,
        )
        assert (candidate.provider, candidate.ciphertext, candidate.key_id) == (
            row.provider,
            row.ciphertext,
            OLD_KEY,
        )
    with pytest.raises(ValueError, match="after_id"):
        await key_repository.rows_not_on_key(NEW_KEY, after_id="not-an-id")


async def test_swap_ciphertext_rewraps_without_touching_version(
    key_repository: CredentialKeyRepository, credentials: CredentialRepository
) -> None:
    row = await create(credentials, unique_tenant())
    swapped = await key_repository.swap_ciphertext(
        row.id, row.ciphertext, b"rewrapped", NEW_KEY, "fingerprint-under-new-key"
    )
    assert swapped
    stored = await credentials.get(row.tenant, row.id)
    assert (stored.ciphertext, stored.key_id, stored.fingerprint) == (
        b"rewrapped",
        NEW_KEY,
        "fingerprint-under-new-key",
    )
    assert (stored.version, stored.updated_at, stored.rotated_at) == (1, row.updated_at, None)
    assert await key_repository.rows_not_on_key(NEW_KEY) == []
    assert await key_repository.count_by_key_id() == {NEW_KEY: 1}


async def test_swap_ciphertext_loses_to_a_secret_replaced_after_it_was_read(
    key_repository: CredentialKeyRepository, credentials: CredentialRepository
) -> None:
    row = await create(credentials, unique_tenant())
    [candidate] = await key_repository.rows_not_on_key(NEW_KEY)
    await rotate_secret(credentials, row, b"replacement-secret")
    swapped = await key_repository.swap_ciphertext(
        candidate.id, candidate.ciphertext, b"rewrap-of-old-secret", NEW_KEY, "stale"
    )
    assert not swapped
    stored = await credentials.get(row.tenant, row.id)
    assert (stored.ciphertext, stored.fingerprint) == (
        b"replacement-secret",
        "fingerprint-of-new-secret",
    )


async def test_racing_rewraps_and_replacements_always_keep_the_replacement(
    key_repository: CredentialKeyRepository, credentials: CredentialRepository
) -> None:
    rows = [await create(credentials, unique_tenant()) for _ in range(20)]
    candidates = {c.id: c for c in await key_repository.rows_not_on_key(NEW_KEY, limit=100)}

    async def rewrap(row: CredentialRow) -> bool:
        candidate = candidates[row.id]
        return await key_repository.swap_ciphertext(
            row.id, candidate.ciphertext, b"rewrap-of-old-secret", NEW_KEY, "stale"
        )

    async def replace(row: CredentialRow) -> CredentialRow:
        return await rotate_secret(credentials, row, b"replacement-" + row.id.encode())

    await asyncio.gather(*(task for row in rows for task in (rewrap(row), replace(row))))
    for row in rows:
        stored = await credentials.get(row.tenant, row.id)
        assert stored.ciphertext == b"replacement-" + row.id.encode()
        assert stored.version == 2


async def test_swap_ciphertext_of_an_unknown_or_malformed_id_changes_nothing(
    key_repository: CredentialKeyRepository,
) -> None:
    assert not await key_repository.swap_ciphertext(
        "00000000-0000-4000-8000-000000000000", b"a", b"b", NEW_KEY, "f"
    )
    assert not await key_repository.swap_ciphertext("nope", b"a", b"b", NEW_KEY, "f")
