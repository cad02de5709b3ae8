"""The audit log: append-only, hash-chained, readable per tenant.

Each event's hash is SHA-256(previous event's hash || canonical JSON of the event's fields,
its id and time included); the first event follows 32 zero bytes. The database refuses UPDATE,
DELETE and TRUNCATE on the table, and `verify` recomputes the chain, so a row changed or removed
behind the database's back shows up as the first event that no longer fits. Removing the newest
events leaves a shorter chain that still verifies; keeping the head hash elsewhere closes that gap.

Appends take one transaction-scoped advisory lock, so events enter the chain one at a time across
all replicas and the chain never forks. Callers append last in their transaction, after their own
row locks, which keeps the lock order the same everywhere (no deadlock).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from integration_api.principal import Tenant
from integration_api.store.database import advisory_key
from integration_api.store.models import AuditEvent, AuditVerification, StoredAuditEvent
from integration_api.store.pagination import (
    PageTokens,
    id_before,
    page_size_or_default,
    query_scope,
)

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

AUDIT_CHAIN_LOCK_KEY = advisory_key("integration-api/audit-chain")
GENESIS_HASH = bytes(32)

_INSERT = """
INSERT INTO audit_events (id, occurred_at, actor, organization_id, project_id, action, target_type,
    target_id, outcome, request_id, details, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"""

_LIST = """
SELECT * FROM audit_events
WHERE organization_id = $1 AND project_id = $2
  AND ($3::text IS NULL OR action = $3)
  AND ($4::bigint IS NULL OR id < $4)
ORDER BY id DESC
LIMIT $5"""


class AuditLog:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def append(self, connection: DatabaseConnection, event: AuditEvent) -> StoredAuditEvent:
        """Add `event` to the chain inside the caller's open READ COMMITTED transaction.

        The event becomes visible, and the chain lock is released, when that transaction
        commits; if it rolls back, the event never existed.
        """
        if not connection.is_in_transaction():
            raise RuntimeError("audit events are appended inside the transaction they describe")
        await connection.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_CHAIN_LOCK_KEY)
        # A separate statement after the lock: it reads the head with a snapshot taken once the
        # previous append has committed.
        head = await connection.fetchrow(
            """
            SELECT (SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1) AS prev_hash,
                   nextval(pg_get_serial_sequence('audit_events', 'id')) AS id,
                   clock_timestamp() AS occurred_at,
                   current_setting('transaction_isolation') AS isolation
            """
        )
        if head is None:
            raise RuntimeError("reading the audit chain head returned no row")
        if head["isolation"] != "read committed":
            # A snapshot older than the lock would miss the newest event and fork the chain.
            raise RuntimeError("audit events are appended in READ COMMITTED transactions only")
        prev_hash = head["prev_hash"] or GENESIS_HASH
        stored = StoredAuditEvent(
            id=head["id"],
            occurred_at=head["occurred_at"],
            event=event,
            prev_hash=prev_hash,
            hash=chain_hash(prev_hash, head["id"], head["occurred_at"], event),
        )
        await connection.execute(
            _INSERT,
            *_insert_arguments(stored),
        )
        return stored

    async def record(self, event: AuditEvent) -> StoredAuditEvent:
        """Append an event that stands alone (a refused attempt, for instance)."""
        async with self._pool.acquire() as connection, connection.transaction():
            return await self.append(connection, event)

    async def list(
        self,
        tenant: Tenant,
        *,
        page_size: int = 0,
        page_token: str | None = None,
        action: str | None = None,
        tokens: PageTokens,
    ) -> tuple[list[StoredAuditEvent], str]:
        """A tenant's events, newest first; the next token is "" after the last page."""
        limit = page_size_or_default(page_size)
        scope = query_scope("audit", tenant.organization_id, tenant.project_id, action or None)
        before_id = id_before(tokens.decode(page_token, scope)) if page_token else None
        async with self._pool.acquire() as connection:
            records = await connection.fetch(
                _LIST,
                tenant.organization_id,
                tenant.project_id,
                action or None,
                before_id,
                limit + 1,
            )
        events = [stored_event_from_record(record) for record in records[:limit]]
        has_more = len(records) > limit
        next_token = tokens.encode([events[-1].id], scope) if has_more else ""
        return events, next_token

    async def verify(self) -> AuditVerification:
        """Recompute the whole chain from the first event, reading it from one snapshot."""
        checked = 0
        expected_prev_hash = GENESIS_HASH
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            cursor = connection.cursor("SELECT * FROM audit_events ORDER BY id")
            async for record in cursor:
                if not _record_fits_chain(record, expected_prev_hash):
                    return AuditVerification(ok=False, checked=checked, first_bad_id=record["id"])
                checked += 1
                expected_prev_hash = bytes(record["hash"])
        return AuditVerification(ok=True, checked=checked)


def _record_fits_chain(record: asyncpg.Record, expected_prev_hash: bytes) -> bool:
    try:
        stored = stored_event_from_record(record)
    except (TypeError, ValueError):
        # Tampered details or outcome that the event type refuses cannot be the original row.
        return False
    recomputed = chain_hash(stored.prev_hash, stored.id, stored.occurred_at, stored.event)
    return stored.prev_hash == expected_prev_hash and stored.hash == recomputed


def chain_hash(prev_hash: bytes, event_id: int, occurred_at: datetime, event: AuditEvent) -> bytes:
    return hashlib.sha256(prev_hash + canonical_event_bytes(event_id, occurred_at, event)).digest()


def canonical_event_bytes(event_id: int, occurred_at: datetime, event: AuditEvent) -> bytes:
    """Sorted keys, no spaces, UTF-8, time in UTC to the microsecond (PostgreSQL's precision)."""
    fields: dict[str, Any] = {
        "id": event_id,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "organization_id": event.tenant.organization_id,
        "project_id": event.tenant.project_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "outcome": event.outcome,
        "request_id": event.request_id,
        "details": event.details,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def stored_event_from_record(record: asyncpg.Record) -> StoredAuditEvent:
    event = AuditEvent(
        actor=record["actor"],
        tenant=Tenant(record["organization_id"], record["project_id"]),
        action=record["action"],
        target_type=record["target_type"],
        target_id=record["target_id"],
        outcome=record["outcome"],
        request_id=record["request_id"],
        details=record["details"],
    )
    return StoredAuditEvent(
        id=record["id"],
        occurred_at=record["occurred_at"],
        event=event,
        prev_hash=bytes(record["prev_hash"]),
        hash=bytes(record["hash"]),
    )


def _insert_arguments(stored: StoredAuditEvent) -> tuple[object, ...]:
    event = stored.event
    return (
        stored.id,
        stored.occurred_at,
        event.actor,
        event.tenant.organization_id,
        event.tenant.project_id,
        event.action,
        event.target_type,
        event.target_id,
        event.outcome,
        event.request_id,
        dict(event.details),
        stored.prev_hash,
        stored.hash,
    )
