from __future__ import annotations

import asyncio

import asyncpg
import pytest

from integration_api.errors import InvalidArgument
from integration_api.principal import Tenant
from integration_api.store.audit import GENESIS_HASH, AuditLog, chain_hash
from integration_api.store.database import ConnectionPool
from integration_api.store.models import AuditEvent, AuditVerification, StoredAuditEvent
from tests.store.factories import PAGE_TOKENS, audit_event, unique_tenant


async def append_events(log: AuditLog, tenant: Tenant, count: int) -> list[StoredAuditEvent]:
    return [
        await log.record(audit_event(tenant, f"credential.action{index}", f"target-{index}"))
        for index in range(count)
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'user:mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
async def test_audit_rows_refuse_update_delete_and_truncate(
    fresh_pool: ConnectionPool, statement: str
) -> None:
    log = AuditLog(fresh_pool)
    await append_events(log, unique_tenant(), 2)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await fresh_pool.execute(statement)
    assert await fresh_pool.fetchval("SELECT count(*) FROM audit_events") == 2


async def test_each_event_links_to_the_previous_one(fresh_pool: ConnectionPool) -> None:
    log = AuditLog(fresh_pool)
    events = await append_events(log, unique_tenant(), 3)
    assert events[0].prev_hash == GENESIS_HASH
    assert [event.prev_hash for event in events[1:]] == [event.hash for event in events[:-1]]
    for event in events:
        assert event.hash == chain_hash(event.prev_hash, event.id, event.occurred_at, event.event)


async def test_an_untouched_chain_verifies(fresh_pool: ConnectionPool) -> None:
    log = AuditLog(fresh_pool)
    assert await log.verify() == AuditVerification(ok=True, checked=0)
    await append_events(log, unique_tenant(), 5)
    verification = await log.verify()
    assert (verification.ok, verification.checked, verification.first_bad_id) == (True, 5, None)


async def tamper(pool: ConnectionPool, statement: str, *arguments: object) -> None:
    """Change rows behind the log's back, as a superuser could, with the guard trigger off."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"
        )
        await connection.execute(statement, *arguments)
        await connection.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


@pytest.mark.parametrize(
    "statement",
    [
        """UPDATE audit_events SET details = '{"provider": "forged"}' WHERE id = $1""",
        "UPDATE audit_events SET actor = 'user:someone-else' WHERE id = $1",
        "UPDATE audit_events SET occurred_at = occurred_at + interval '1 second' WHERE id = $1",
        "UPDATE audit_events SET outcome = 'failure' WHERE id = $1",
        "UPDATE audit_events SET prev_hash = sha256(prev_hash) WHERE id = $1",
        "DELETE FROM audit_events WHERE id = $1",
    ],
    ids=["details", "actor", "time", "outcome", "prev_hash", "deleted"],
)
async def test_a_tampered_event_is_found_by_its_id(
    fresh_pool: ConnectionPool, statement: str
) -> None:
    log = AuditLog(fresh_pool)
    events = await append_events(log, unique_tenant(), 5)
    target = events[2]
    await tamper(fresh_pool, statement, target.id)
    verification = await log.verify()
    assert not verification.ok
    assert verification.checked == 2
    deleted = statement.startswith("DELETE")
    # A deleted event is noticed at its successor, whose link now points at nothing.
    assert verification.first_bad_id == (events[3].id if deleted else target.id)


async def test_a_rewritten_hash_is_caught_at_the_next_event(fresh_pool: ConnectionPool) -> None:
    log = AuditLog(fresh_pool)
    events = await append_events(log, unique_tenant(), 3)
    forged = events[1]
    forged_event = AuditEvent(**{**forged.event.__dict__, "actor": "user:someone-else"})
    recomputed = chain_hash(forged.prev_hash, forged.id, forged.occurred_at, forged_event)
    await tamper(
        fresh_pool,
        "UPDATE audit_events SET actor = 'user:someone-else', hash = $2 WHERE id = $1",
        forged.id,
        recomputed,
    )
    verification = await log.verify()
    assert (verification.ok, verification.first_bad_id) == (False, events[2].id)


async def test_concurrent_appends_keep_one_unbroken_chain(fresh_pool: ConnectionPool) -> None:
    log = AuditLog(fresh_pool)
    tenants = [unique_tenant() for _ in range(5)]
    stored = await asyncio.gather(
        *(
            log.record(audit_event(tenants[index % 5], "credential.use", f"target-{index}"))
            for index in range(50)
        )
    )
    verification = await log.verify()
    assert (verification.ok, verification.checked) == (True, 50)
    prev_hashes = [event.prev_hash for event in stored]
    assert len(set(prev_hashes)) == 50  # no two events claim the same predecessor: no fork
    assert prev_hashes.count(GENESIS_HASH) == 1


async def test_append_outside_a_transaction_is_refused(fresh_pool: ConnectionPool) -> None:
    log = AuditLog(fresh_pool)
    async with fresh_pool.acquire() as connection:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await log.append(connection, audit_event(unique_tenant(), "x", "y"))


async def test_an_event_of_a_rolled_back_transaction_never_existed(
    fresh_pool: ConnectionPool,
) -> None:
    log = AuditLog(fresh_pool)
    tenant = unique_tenant()
    with pytest.raises(ZeroDivisionError):
        async with fresh_pool.acquire() as connection, connection.transaction():
            await log.append(connection, audit_event(tenant, "credential.create", "gone"))
            _ = 1 / 0
    kept = await log.record(audit_event(tenant, "credential.create", "kept"))
    assert kept.prev_hash == GENESIS_HASH
    assert (await log.list(tenant, tokens=PAGE_TOKENS))[0] == [kept]
    assert (await log.verify()).ok


def test_details_that_would_not_hash_the_same_after_storage_are_refused() -> None:
    tenant = unique_tenant()
    with pytest.raises(TypeError, match="float"):
        audit_event(tenant, "x", "y", details={"latency": 1e16})
    with pytest.raises(TypeError, match=r"details\.nested"):
        audit_event(tenant, "x", "y", details={"nested": {1: "a"}})
    with pytest.raises(ValueError, match="outcome"):
        AuditEvent("user:a", tenant, "x", "credential", "y", outcome="maybe")


async def test_list_shows_a_tenants_events_newest_first_in_pages(
    audit_log: AuditLog, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = await append_events(audit_log, tenant, 5)
    await append_events(audit_log, other_tenant, 3)
    first, token = await audit_log.list(tenant, page_size=2, tokens=PAGE_TOKENS)
    second, token_two = await audit_log.list(
        tenant, page_size=2, page_token=token, tokens=PAGE_TOKENS
    )
    third, token_three = await audit_log.list(
        tenant, page_size=2, page_token=token_two, tokens=PAGE_TOKENS
    )
    assert token_three == ""
    assert first + second + third == list(reversed(mine))


async def test_list_filters_by_action(audit_log: AuditLog, tenant: Tenant) -> None:
    events = await append_events(audit_log, tenant, 3)
    listed, token = await audit_log.list(tenant, action="credential.action1", tokens=PAGE_TOKENS)
    assert (listed, token) == ([events[1]], "")


async def test_audit_page_token_is_bound_to_its_query(
    audit_log: AuditLog, tenant: Tenant, other_tenant: Tenant
) -> None:
    await append_events(audit_log, tenant, 3)
    _, token = await audit_log.list(tenant, page_size=1, tokens=PAGE_TOKENS)
    for tenant_used, action in ((other_tenant, None), (tenant, "credential.action0")):
        with pytest.raises(InvalidArgument) as raised:
            await audit_log.list(
                tenant_used, page_size=1, page_token=token, action=action, tokens=PAGE_TOKENS
            )
        assert raised.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgument):
        await audit_log.list(tenant, page_size=1, page_token=token[:-2] + "xx", tokens=PAGE_TOKENS)


async def test_append_in_a_snapshot_transaction_is_refused(fresh_pool: ConnectionPool) -> None:
    log = AuditLog(fresh_pool)
    async with fresh_pool.acquire() as connection:
        with pytest.raises(RuntimeError, match="READ COMMITTED"):
            async with connection.transaction(isolation="repeatable_read"):
                await log.append(connection, audit_event(unique_tenant(), "x", "y"))
    assert await fresh_pool.fetchval("SELECT count(*) FROM audit_events") == 0


async def test_the_database_refuses_a_second_event_after_the_same_one(
    fresh_pool: ConnectionPool,
) -> None:
    log = AuditLog(fresh_pool)
    [first] = await append_events(log, unique_tenant(), 1)
    with pytest.raises(asyncpg.UniqueViolationError):
        await fresh_pool.execute(
            "INSERT INTO audit_events (occurred_at, actor, organization_id, project_id, action,"
            " target_type, target_id, outcome, prev_hash, hash)"
            " VALUES (now(), 'a', 'o', 'p', 'x', 't', 'i', 'success', $1, $2)",
            first.prev_hash,
            bytes(range(32)),
        )
