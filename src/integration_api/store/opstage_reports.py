"""What the embedded Opstage agent last reported per Capsule service, and who changed credentials.

Rows of `opstage_reported_services` are written in the transaction that appends the audit
events of the changes they record, under a lock per agent code, so two replicas briefly both
leading never record one change twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from integration_api.store.database import advisory_key

if TYPE_CHECKING:
    from integration_api.store.database import ConnectionPool, DatabaseConnection

# Credential events that can move what a provider service reports (health checks only move
# its health, which is not tracked as a change).
CHANGE_ACTIONS = (
    "credential.create",
    "credential.update",
    "credential.rotate",
    "credential.delete",
    "credential.enable",
    "credential.disable",
)
# The newest events of one window that are looked at; older ones no longer name the last actor.
CHANGES_READ = 10_000

_LOAD = "SELECT * FROM opstage_reported_services WHERE agent_code = $1"

_SAVE = """
INSERT INTO opstage_reported_services (agent_code, service_code, configs, audit_position,
    last_change_at, last_change_by)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (agent_code, service_code) DO UPDATE SET configs = $3, audit_position = $4,
    last_change_at = $5, last_change_by = $6, updated_at = now()"""

_HEAD = "SELECT coalesce(max(id), 0) AS head FROM audit_events"

_CHANGES = """
SELECT id, actor, action, target_id, occurred_at, details->>'provider' AS provider
FROM audit_events
WHERE id > $1 AND target_type = 'credential' AND outcome = 'success' AND action = ANY($2::text[])
ORDER BY id DESC
LIMIT $3"""

_PROVIDERS = "SELECT id::text AS id, provider FROM credentials WHERE id = ANY($1::uuid[])"

# A credential deleted since: its provider is in the event that created it.
_CREATED = """
SELECT target_id, details->>'provider' AS provider FROM audit_events
WHERE action = 'credential.create' AND target_type = 'credential' AND outcome = 'success'
  AND target_id = ANY($1::text[])"""


@dataclass(frozen=True)
class ReportedService:
    service_code: str
    configs: dict[str, str] = field(default_factory=dict)
    audit_position: int = 0
    last_change_at: datetime | None = None
    last_change_by: str = ""


@dataclass(frozen=True)
class CredentialChange:
    audit_id: int
    provider: str
    actor: str
    action: str
    occurred_at: datetime


def _lock_key(agent_code: str) -> int:
    return advisory_key(f"integration-api/opstage-report/{agent_code}")


class OpstageReportRepository:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    async def load(self, agent_code: str) -> dict[str, ReportedService]:
        return _services(await self._pool.fetch(_LOAD, agent_code))

    async def locked(
        self, connection: DatabaseConnection, agent_code: str
    ) -> dict[str, ReportedService]:
        """The agent's rows, read after taking its lock in the caller's transaction."""
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(agent_code))
        return _services(await connection.fetch(_LOAD, agent_code))

    async def save(
        self,
        connection: DatabaseConnection,
        agent_code: str,
        services: Iterable[ReportedService],
    ) -> None:
        for service in services:
            await connection.execute(
                _SAVE,
                agent_code,
                service.service_code,
                service.configs,
                service.audit_position,
                service.last_change_at,
                service.last_change_by,
            )

    async def audit_head(self) -> int:
        """The id of the newest audit event written (0 before the first)."""
        record = await self._pool.fetchrow(_HEAD)
        return int(record["head"]) if record is not None else 0

    async def credential_changes(self, after_id: int) -> list[CredentialChange]:
        """Audited credential changes after `after_id`, oldest first, each with its provider."""
        records = list(
            reversed(await self._pool.fetch(_CHANGES, after_id, list(CHANGE_ACTIONS), CHANGES_READ))
        )
        providers = {
            record["target_id"]: record["provider"] for record in records if record["provider"]
        }
        await self._find_providers(providers, [record["target_id"] for record in records])
        return [
            CredentialChange(
                audit_id=record["id"],
                provider=providers[record["target_id"]],
                actor=record["actor"],
                action=record["action"],
                occurred_at=record["occurred_at"],
            )
            for record in records
            if record["target_id"] in providers
        ]

    async def _find_providers(self, providers: dict[str, str], targets: Sequence[str]) -> None:
        missing = sorted({target for target in targets if target not in providers})
        ids = [target for target in missing if _is_uuid(target)]
        if ids:
            for record in await self._pool.fetch(_PROVIDERS, ids):
                providers[record["id"]] = record["provider"]
        missing = [target for target in missing if target not in providers]
        if missing:
            for record in await self._pool.fetch(_CREATED, missing):
                if record["provider"]:
                    providers[record["target_id"]] = record["provider"]


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _services(records: Sequence[asyncpg.Record]) -> dict[str, ReportedService]:
    services = {}
    for record in records:
        service = ReportedService(
            service_code=record["service_code"],
            configs={str(key): str(value) for key, value in dict(record["configs"]).items()},
            audit_position=int(record["audit_position"]),
            last_change_at=record["last_change_at"],
            last_change_by=record["last_change_by"],
        )
        services[service.service_code] = service
    return services
