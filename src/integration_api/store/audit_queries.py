"""Reading the audit log with filters: a tenant's events, or every tenant's for operators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from integration_api.principal import Tenant
from integration_api.store.audit import stored_event_from_record
from integration_api.store.models import StoredAuditEvent
from integration_api.store.pagination import (
    PageTokens,
    id_before,
    page_size_or_default,
    query_scope,
)

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool

# $1, $2 NULL: every tenant. Empty filters are passed as NULL.
_WHERE = """
($1::text IS NULL OR (organization_id = $1 AND project_id = $2))
AND ($3::text IS NULL OR actor = $3)
AND ($4::text IS NULL OR action = $4)
AND ($5::text IS NULL OR target_type = $5)
AND ($6::text IS NULL OR target_id = $6)
AND ($7::timestamptz IS NULL OR occurred_at >= $7)
AND ($8::timestamptz IS NULL OR occurred_at < $8)"""

_PAGE = f"""
SELECT * FROM audit_events WHERE {_WHERE} AND ($9::bigint IS NULL OR id < $9)
ORDER BY id DESC LIMIT $10"""  # noqa: S608 - composed from constants only

_EXPORT = f"SELECT * FROM audit_events WHERE {_WHERE} ORDER BY id"  # noqa: S608 - composed from constants only


@dataclass(frozen=True)
class AuditQuery:
    """Which events; `tenant` None means every tenant (operators only)."""

    tenant: Tenant | None
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def arguments(self) -> tuple[object, ...]:
        organization = self.tenant.organization_id if self.tenant else None
        project = self.tenant.project_id if self.tenant else None
        return (
            organization,
            project,
            self.actor or None,
            self.action or None,
            self.target_type or None,
            self.target_id or None,
            self.start,
            self.end,
        )

    def scope(self) -> str:
        text = [None if value is None else str(value) for value in self.arguments()]
        return query_scope("audit-query", *text)


class AuditQueries:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def page(
        self, query: AuditQuery, *, page_size: int, page_token: str | None, tokens: PageTokens
    ) -> tuple[list[StoredAuditEvent], str]:
        """Newest first; the next token is "" after the last page."""
        limit = page_size_or_default(page_size)
        scope = query.scope()
        before_id = id_before(tokens.decode(page_token, scope)) if page_token else None
        records = await self._pool.fetch(_PAGE, *query.arguments(), before_id, limit + 1)
        events = [stored_event_from_record(record) for record in records[:limit]]
        next_token = tokens.encode([events[-1].id], scope) if len(records) > limit else ""
        return events, next_token

    async def export(self, query: AuditQuery) -> AsyncIterator[StoredAuditEvent]:
        """Every matching event, oldest first, read from one snapshot with a cursor."""
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            async for record in connection.cursor(_EXPORT, *query.arguments()):
                yield stored_event_from_record(record)
