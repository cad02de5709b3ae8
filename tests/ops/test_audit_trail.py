"""The audit trail through OperationsService: filters, export, and tampering found by verify."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import asyncpg
import grpc
import pytest
from integration_api_proto.integration.v1 import (
    AuditFilter,
    ExportAuditEventsRequest,
    ListAuditEventsRequest,
    RequestRotationRequest,
    VerifyAuditLogRequest,
)

from tests.ops.support import Caller


async def _audited_actions(caller: Caller, organization: str) -> str:
    """Create a credential and open a rotation in `organization`; returns the credential id."""
    credential, _ = await caller.stored(organization)
    await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential.id, reason="quarterly"),
        metadata=caller.tenant(organization, user="alice"),
    )
    return credential.id


async def test_events_filter_by_action_actor_and_tenant(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    await _audited_actions(caller, organization)
    await _audited_actions(caller, "org-" + secrets.token_hex(3))
    mine = await caller.operations.list_audit_events(
        ListAuditEventsRequest(filter=AuditFilter(action="rotation.request")),
        metadata=caller.tenant(organization),
    )
    assert [event.organization_id for event in mine.events] == [organization]
    across = await caller.operations.list_audit_events(
        ListAuditEventsRequest(
            filter=AuditFilter(action="rotation.request", actor="subject:alice")
        ),
        metadata=caller.operator(),
    )
    assert len({event.organization_id for event in across.events}) >= 2
    assert all(event.details is not None for event in across.events)


async def test_export_is_json_lines_for_operators_only(caller: Caller) -> None:
    organization = "org-" + secrets.token_hex(3)
    credential_id = await _audited_actions(caller, organization)
    request = ExportAuditEventsRequest(
        filter=AuditFilter(organization_id=organization, project_id="p1")
    )
    lines = [
        response.json_line
        async for response in caller.operations.export_audit_events(
            request, metadata=caller.operator()
        )
    ]
    events = [json.loads(line) for line in lines]
    assert [event["action"] for event in events] == ["credential.create", "rotation.request"]
    assert events[1]["details"]["credential_id"] == credential_id
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _ in caller.operations.export_audit_events(
            request, metadata=caller.tenant(organization)
        ):
            pass
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_verification_needs_an_operator(caller: Caller) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.verify_audit_log(
            VerifyAuditLogRequest(), metadata=caller.tenant("org-x")
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture
async def raw_database(caller: Caller) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A superuser session with the append-only triggers off, as an attacker with the database
    password would have."""
    connection = await asyncpg.connect(caller.service.app.runtime.database.dsn)
    await connection.execute("SET session_replication_role = replica")
    try:
        yield connection
    finally:
        await connection.close()


if TYPE_CHECKING:
    Connection = asyncpg.Connection[asyncpg.Record]


async def _edit(connection: Connection, ids: list[int]) -> Callable[[], Awaitable[None]]:
    original = await connection.fetchval("SELECT actor FROM audit_events WHERE id = $1", ids[1])
    await connection.execute("UPDATE audit_events SET actor = 'user:mallory' WHERE id = $1", ids[1])

    async def undo() -> None:
        await connection.execute(
            "UPDATE audit_events SET actor = $2 WHERE id = $1", ids[1], original
        )

    return undo


async def _delete(connection: Connection, ids: list[int]) -> Callable[[], Awaitable[None]]:
    row = await connection.fetchrow("SELECT * FROM audit_events WHERE id = $1", ids[1])
    assert row is not None
    await connection.execute("DELETE FROM audit_events WHERE id = $1", ids[1])
    columns = list(row.keys())
    placeholders = ", ".join(f"${index + 1}" for index in range(len(columns)))

    async def undo() -> None:
        await connection.execute(
            f"INSERT INTO audit_events ({', '.join(columns)}) VALUES ({placeholders})",
            *row.values(),
        )

    return undo


async def _reorder(connection: Connection, ids: list[int]) -> Callable[[], Awaitable[None]]:
    async def swap() -> None:
        await connection.execute(
            """UPDATE audit_events SET id = CASE id WHEN $1 THEN -$2 ELSE -$1 END
               WHERE id IN ($1, $2)""",
            ids[1],
            ids[2],
        )
        await connection.execute("UPDATE audit_events SET id = -id WHERE id < 0")

    await swap()
    return swap


@pytest.mark.parametrize("tamper", [_edit, _delete, _reorder], ids=["edit", "delete", "reorder"])
async def test_tampering_is_reported_at_the_first_broken_link(
    caller: Caller,
    raw_database: Connection,
    tamper: Callable[[Connection, list[int]], Awaitable[Callable[[], Awaitable[None]]]],
) -> None:
    await _audited_actions(caller, "org-" + secrets.token_hex(3))
    ids = [
        record["id"]
        for record in await raw_database.fetch(
            "SELECT id FROM audit_events ORDER BY id DESC LIMIT 3"
        )
    ][::-1]
    intact = await caller.operations.verify_audit_log(
        VerifyAuditLogRequest(), metadata=caller.operator()
    )
    assert intact.ok and intact.first_bad_event_id == 0
    undo = await tamper(raw_database, ids)
    try:
        broken = await caller.operations.verify_audit_log(
            VerifyAuditLogRequest(), metadata=caller.operator()
        )
    finally:
        await undo()
    assert not broken.ok
    # A deleted event is noticed at the one that followed it.
    expected = ids[2] if tamper is _delete else ids[1]
    assert broken.first_bad_event_id == expected
    restored = await caller.operations.verify_audit_log(
        VerifyAuditLogRequest(), metadata=caller.operator()
    )
    assert restored.ok
