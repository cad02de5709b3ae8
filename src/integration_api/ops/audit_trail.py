"""The audit trail for people: filtered listing, a JSON-lines export and chain verification.

A tenant caller lists its own tenant's events; an operator lists any tenant's or all, exports,
and verifies the hash chain (which spans every tenant, so only an operator may walk it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from integration_api.database import Database
from integration_api.errors import InvalidArgument
from integration_api.ops.access import require_operator, visible_tenant
from integration_api.principal import Principal
from integration_api.store.audit import AuditLog
from integration_api.store.audit_queries import AuditQueries, AuditQuery
from integration_api.store.models import AuditVerification, StoredAuditEvent
from integration_api.store.pagination import PageTokens


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    organization_id: str = ""
    project_id: str = ""
    start: datetime | None = None
    end: datetime | None = None


def event_json(stored: StoredAuditEvent) -> str:
    """One event as a JSON object (the export's line), hashes in hex."""
    event = stored.event
    return json.dumps(
        {
            "id": stored.id,
            "occurredAt": stored.occurred_at.astimezone(UTC).isoformat(),
            "actor": event.actor,
            "organizationId": event.tenant.organization_id,
            "projectId": event.tenant.project_id,
            "action": event.action,
            "targetType": event.target_type,
            "targetId": event.target_id,
            "outcome": event.outcome,
            "requestId": event.request_id,
            "details": dict(event.details),
            "prevHash": stored.prev_hash.hex(),
            "hash": stored.hash.hex(),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


class AuditTrail:
    def __init__(self, database: Database, page_tokens: PageTokens) -> None:
        self._database = database
        self._page_tokens = page_tokens

    def _query(self, principal: Principal, selection: AuditFilter) -> AuditQuery:
        if selection.start and selection.end and selection.start >= selection.end:
            raise InvalidArgument.for_field("filter.end_time", "must be after start_time")
        return AuditQuery(
            tenant=visible_tenant(principal, selection.organization_id, selection.project_id),
            actor=selection.actor or None,
            action=selection.action or None,
            target_type=selection.target_type or None,
            target_id=selection.target_id or None,
            start=selection.start,
            end=selection.end,
        )

    async def page(
        self, principal: Principal, selection: AuditFilter, page_size: int, page_token: str
    ) -> tuple[list[StoredAuditEvent], str]:
        query = self._query(principal, selection)
        return await AuditQueries(self._database.pool).page(
            query, page_size=page_size, page_token=page_token or None, tokens=self._page_tokens
        )

    async def export(self, principal: Principal, selection: AuditFilter) -> AsyncIterator[str]:
        require_operator(principal, "exporting the audit trail")
        query = self._query(principal, selection)
        async for stored in AuditQueries(self._database.pool).export(query):
            yield event_json(stored)

    async def verify(self, principal: Principal) -> AuditVerification:
        require_operator(principal, "verifying the audit chain")
        return await AuditLog(self._database.pool).verify()
