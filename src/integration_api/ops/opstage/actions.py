"""Runs the commands Opstage sends: prepare (no side effects) and execute, for each action.

The agent acts as an operator named after itself (`service:opstage-<code>`), so its actions are
audited like any operator's, and a rotation it opens must be confirmed by someone else.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from integration_api.errors import ServiceError
from integration_api.ops.inventory import stale_before
from integration_api.ops.opstage.catalogue import ACTIONS, payload_violations
from integration_api.ops.opstage.report import PROVIDER_PREFIX
from integration_api.ops.service import Operations
from integration_api.principal import Principal, Tenant
from integration_api.store.inventory import InventoryRepository, InventoryScope

CHECK_TO_STATUS = {"valid": "UP", "unreachable": "DEGRADED", "invalid": "DOWN"}


@dataclass(frozen=True)
class CommandResult:
    success: bool
    message: str
    data: dict[str, Any] | None = None
    error_code: str = ""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": self.success, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        if not self.success:
            body["error"] = {"code": self.error_code, "message": self.message}
        return body


def failed(code: str, message: str) -> CommandResult:
    return CommandResult(False, message, error_code=code)


def agent_principal(code: str) -> Principal:
    return Principal(tenant=Tenant("opstage", code), subject=f"opstage-{code}", operator=True)


class ActionRunner:
    def __init__(self, operations: Operations, agent_code: str, check_interval: float) -> None:
        self._operations = operations
        self._principal = agent_principal(agent_code)
        self._interval = check_interval

    async def run(self, command: dict[str, Any], provider: str | None) -> CommandResult:
        action = str(command.get("actionName", ""))
        if action not in ACTIONS:
            return failed("ACTION_NOT_FOUND", "this service offers no such action")
        if command.get("type") == "ACTION_PREPARE":
            return await self._prepare(action, provider)
        payload = command.get("payload") or {}
        problems = payload_violations(action, payload)
        if problems:
            return failed("ACTION_FAILED", "invalid payload: " + "; ".join(problems))
        try:
            return await self._execute(action, payload, provider)
        except ServiceError as error:
            return failed("ACTION_FAILED", error.message)

    async def _prepare(self, action: str, provider: str | None) -> CommandResult:
        rows = await InventoryRepository(self._operations.database.pool).page(
            InventoryScope(None, provider),
            stale_before=stale_before(self._interval),
            effective_status=None,
            limit=100,
            after=None,
        )
        state = [
            {
                "credentialId": row.credential.id,
                "name": row.credential.name,
                "provider": row.credential.provider,
                "organizationId": row.credential.organization_id,
                "projectId": row.credential.project_id,
                "effectiveStatus": row.effective_status,
            }
            for row in rows
        ]
        definition = dict(ACTIONS[action])
        schema = dict(definition["inputSchema"])
        ids = [item["credentialId"] for item in state]
        labels = [
            f"{item['name']} ({item['organizationId']}/{item['projectId']})" for item in state
        ]
        schema["properties"] = {
            **schema["properties"],
            "credentialId": {
                **schema["properties"]["credentialId"],
                "enum": ids,
                "enumLabels": labels,
            },
        }
        definition["inputSchema"] = schema
        data = {"action": definition, "initialPayload": {}, "currentState": {"credentials": state}}
        return CommandResult(True, "ready", data)

    async def _execute(
        self, action: str, payload: dict[str, Any], provider: str | None
    ) -> CommandResult:
        credential_id = str(payload.get("credentialId") or "")
        reason = str(payload.get("reason") or "")
        if action == "runHealthCheck":
            return await self._health(credential_id, provider)
        if action == "rotateKey":
            rotation = await self._operations.rotations.request(
                self._principal, credential_id, reason
            )
            return CommandResult(
                True,
                "rotation opened; confirm it with the new key through "
                "OperationsService.ConfirmRotation",
                {
                    "rotationId": rotation.id,
                    "credentialId": rotation.credential_id,
                    "expiresAt": rotation.expires_at.isoformat(),
                },
            )
        rows = await self._operations.bulk_disable.disable_one(
            self._principal, credential_id, reason
        )
        return CommandResult(
            True, "credential disabled", {"credentialId": rows.id, "status": rows.status}
        )

    async def _health(self, credential_id: str, provider: str | None) -> CommandResult:
        checked = await self._operations.run_health_check(
            self._principal,
            [credential_id] if credential_id else [],
            provider or "",
            everything=not credential_id and not provider,
        )
        outcomes = Counter(item.check.outcome for item in checked)
        status = "UP"
        if outcomes.get("invalid"):
            status = "DOWN"
        elif outcomes.get("unreachable"):
            status = "DEGRADED"
        results = [
            {
                "credentialId": item.credential.id,
                "organizationId": item.credential.organization_id,
                "projectId": item.credential.project_id,
                "outcome": item.check.outcome,
                "latencyMs": item.check.latency_ms,
            }
            for item in checked
        ]
        return CommandResult(
            True,
            f"checked {len(checked)} credential(s)",
            {"status": status, "details": {"outcomes": dict(outcomes), "results": results}},
        )


def provider_of_service(service_code: str | None) -> str | None:
    if service_code and service_code.startswith(PROVIDER_PREFIX):
        return service_code[len(PROVIDER_PREFIX) :]
    return None
