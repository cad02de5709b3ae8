"""A committed change of a credential notifies every listener; a refused one notifies nobody."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from integration_api.errors import Aborted
from integration_api.store.credentials import CredentialRepository
from integration_api.store.database import ConnectionPool
from integration_api.store.notifications import CHANNEL
from tests.store.factories import audit_event, new_credential, unique_tenant
from tests.support.credential_keys import CredentialKeyRepository


async def _listen(dsn: str) -> tuple[asyncpg.Connection[asyncpg.Record], asyncio.Queue[str]]:
    received: asyncio.Queue[str] = asyncio.Queue()
    connection = await asyncpg.connect(dsn)
    await connection.add_listener(CHANNEL, lambda *args: received.put_nowait(str(args[-1])))
    return connection, received


async def test_committed_changes_notify_and_refused_ones_do_not(
    fresh_pool: ConnectionPool, empty_database_dsn: str
) -> None:
    listener, received = await _listen(empty_database_dsn)
    try:
        repository = CredentialRepository(fresh_pool)
        tenant = unique_tenant()
        draft = new_credential(tenant)
        created = await repository.insert(draft, audit_event(tenant, "credential.create", draft.id))
        with pytest.raises(Aborted):
            await repository.set_status(
                tenant,
                created.id,
                status="disabled",
                expected_version=created.version + 1,
                audit=audit_event(tenant, "credential.disable", created.id),
            )
        await repository.set_status(
            tenant,
            created.id,
            status="disabled",
            audit=audit_event(tenant, "credential.disable", created.id),
        )
        assert await asyncio.wait_for(received.get(), 5) == created.id
        swapped = await CredentialKeyRepository(fresh_pool).swap_ciphertext(
            created.id, created.ciphertext, b"\x02" * 41, "k0000000000000002", "fp_new"
        )
        assert swapped
        assert await asyncio.wait_for(received.get(), 5) == created.id
        await asyncio.sleep(0.1)
        assert received.empty(), "the refused change sent a notification"
    finally:
        await listener.close()
