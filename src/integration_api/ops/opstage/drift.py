"""Config drift with history: each change of a tracked config the agent reports becomes an audit
event here, and every service reports the time and author of its last change.

Opstage keeps only the current value of a config (and its `service.reported` audit entries say
nothing of what changed), so the agent compares what it is about to report with what it last
reported (kept in `opstage_reported_services`) and records each difference as
`opstage.config.changed` (target: the service's code; details: key, old value, new value, who
changed it and when), which `ListAuditEvents` returns. Who: the actors of the audited credential
changes of that provider since the values were last read (a value no audited change explains
names nobody); the service's own configs (version, key ids, check interval) come from its
deployment. Tracked are the configs an operator sets, not the figures that move by themselves
(usage, failing counts, connections).

The change is recorded after the report carrying it was sent, in one transaction with the new
values, so a failed report records nothing and a replica that leads briefly alongside another
never records one change twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from integration_api.database import Database
from integration_api.ops.opstage.report import PROVIDER_PREFIX, SERVICE_CODE, config_item
from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.models import AuditEvent
from integration_api.store.opstage_reports import (
    CredentialChange,
    OpstageReportRepository,
    ReportedService,
)

CHANGE_ACTION = "opstage.config.changed"
CHANGE_TARGET = "opstage_service"
PROVIDER_TRACKED = frozenset(
    {
        "MODEL_DEFAULT",
        "UPSTREAM_URL",
        "API_VERSION",
        "CREDENTIALS_TOTAL",
        "CREDENTIALS_DISABLED",
        "LAST_ROTATION",
    }
)
SERVICE_TRACKED = frozenset(
    {
        "VERSION",
        "KEYRING_PRIMARY_KEY_ID",
        "KEYRING_DECRYPT_ONLY_KEY_IDS",
        "HEALTH_CHECK_INTERVAL_SECONDS",
    }
)
DEPLOYMENT = "deployment"
# A change explained by no audited event: the report says so instead of naming someone.
UNATTRIBUTED = "(no audited change)"
ACTORS_NAMED = 3


@dataclass(frozen=True)
class ConfigChange:
    service_code: str
    key: str
    old: str | None
    new: str


@dataclass
class DriftPlan:
    """What a report changes: the values to keep and the changes to record once it is sent."""

    rows: list[ReportedService] = field(default_factory=list)
    changes: list[ConfigChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rows)


def tracked_keys(service_code: str) -> frozenset[str]:
    return SERVICE_TRACKED if service_code == SERVICE_CODE else PROVIDER_TRACKED


def tracked_values(service: dict[str, Any]) -> dict[str, str]:
    keys = tracked_keys(str(service["code"]))
    return {
        str(item["key"]): str(item.get("valuePreview", ""))
        for item in service.get("configs", [])
        if item["key"] in keys
    }


def _attribution(changes: Sequence[CredentialChange], now: datetime) -> tuple[datetime, str]:
    if not changes:
        return now, UNATTRIBUTED
    actors = list(dict.fromkeys(change.actor for change in reversed(changes)))
    named = ", ".join(actors[:ACTORS_NAMED])
    if len(actors) > ACTORS_NAMED:
        named += f" and {len(actors) - ACTORS_NAMED} more"
    return changes[-1].occurred_at, named


class DriftTracker:
    def __init__(self, database: Database, agent_code: str, actor: str) -> None:
        self._database = database
        self._agent_code = agent_code
        self._actor = actor

    def _repository(self) -> OpstageReportRepository:
        return OpstageReportRepository(self._database.pool)

    async def previous(self) -> tuple[dict[str, ReportedService], int]:
        """What was last reported, and the audit position to read the new values at: read
        before the values themselves, so no change slips between the two."""
        repository = self._repository()
        return await repository.load(self._agent_code), await repository.audit_head()

    async def plan(
        self,
        services: list[dict[str, Any]],
        previous: dict[str, ReportedService],
        position: int,
        *,
        refresh: bool = False,
    ) -> DriftPlan:
        """Compares `services` with `previous`; adds LAST_CHANGE_AT and LAST_CHANGE_BY to each.

        With nothing reported before (a new agent), today's values are the starting point.
        `refresh` keeps every service's values at `position` even unchanged, so the window of
        audit events a later change is attributed from stays short.
        """
        now = datetime.now(UTC)
        plan = DriftPlan()
        changed: dict[str, list[ConfigChange]] = {}
        for service in services:
            code = str(service["code"])
            values = tracked_values(service)
            before = previous.get(code)
            if before is None and not previous:
                plan.rows.append(ReportedService(code, values, position))
                continue
            old = before.configs if before else {}
            found = [
                ConfigChange(code, key, old.get(key), value)
                for key, value in sorted(values.items())
                if old.get(key) != value
            ]
            if found:
                changed[code] = found
        credential_changes = await self._credential_changes(changed, previous)
        for service in services:
            code = str(service["code"])
            before = previous.get(code)
            last_at, last_by = (
                (before.last_change_at, before.last_change_by) if before else (None, "")
            )
            if code in changed:
                if code == SERVICE_CODE:
                    last_at, last_by = now, DEPLOYMENT
                else:
                    since = before.audit_position if before else _oldest(previous)
                    provider = code.removeprefix(PROVIDER_PREFIX)
                    mine = [
                        change
                        for change in credential_changes
                        if change.provider == provider and change.audit_id > since
                    ]
                    last_at, last_by = _attribution(mine, now)
                plan.changes += changed[code]
                plan.rows.append(
                    ReportedService(code, tracked_values(service), position, last_at, last_by)
                )
            elif refresh and before is not None:
                plan.rows.append(replace(before, audit_position=position))
            service["configs"] = [
                *service["configs"],
                config_item(
                    "LAST_CHANGE_AT",
                    last_at.isoformat() if last_at else "none recorded",
                    "Last change",
                ),
                config_item("LAST_CHANGE_BY", last_by or "none recorded", "Last change by"),
            ]
        return plan

    async def _credential_changes(
        self, changed: dict[str, list[ConfigChange]], previous: dict[str, ReportedService]
    ) -> list[CredentialChange]:
        providers = [code for code in changed if code != SERVICE_CODE]
        if not providers:
            return []
        since = min(
            (previous[code].audit_position if code in previous else _oldest(previous))
            for code in providers
        )
        return await self._repository().credential_changes(since)

    async def commit(self, plan: DriftPlan) -> None:
        """Keeps the reported values and records their changes (call once the report is sent)."""
        if not plan:
            return
        repository = self._repository()
        by_code = {row.service_code: row for row in plan.rows}
        async with self._database.pool.acquire() as connection, connection.transaction():
            current = await repository.locked(connection, self._agent_code)
            events = []
            for change in plan.changes:
                stored = current.get(change.service_code)
                old = stored.configs.get(change.key) if stored else None
                if old == change.new:
                    continue  # recorded already (another replica led for a moment)
                row = by_code[change.service_code]
                events.append(self._event(replace(change, old=old), row))
            await repository.save(connection, self._agent_code, plan.rows)
            audit = AuditLog(self._database.pool)
            for event in events:
                await audit.append(connection, event)

    def _event(self, change: ConfigChange, row: ReportedService) -> AuditEvent:
        changed_at = row.last_change_at or datetime.now(UTC)
        return AuditEvent(
            actor=self._actor,
            tenant=Tenant("opstage", self._agent_code),
            action=CHANGE_ACTION,
            target_type=CHANGE_TARGET,
            target_id=change.service_code,
            details={
                "key": change.key,
                "oldValue": change.old,
                "newValue": change.new,
                "changedBy": row.last_change_by,
                "changedAt": changed_at.isoformat(),
            },
        )


def _oldest(previous: dict[str, ReportedService]) -> int:
    return min((row.audit_position for row in previous.values()), default=0)
