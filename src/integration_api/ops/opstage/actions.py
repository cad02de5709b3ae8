"""Runs the commands Opstage sends: prepare (no side effects) and execute, for each action.

An action acts with the operator power of the agent, in the name of the console user who asked:
the backend sends that user's id with the command (`createdByUserId`, `usr_…`), and it becomes
the actor (`subject:usr_…`), so the person who clicked `rotateKey` cannot confirm the rotation
with a token whose `sub` is that id. A command no person created is acted in the agent's own
name (`subject:opstage-<code>`), which a token with that subject cannot confirm either.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from integration_api.auth.claims import actor_id
from integration_api.errors import ServiceError, Unauthenticated
from integration_api.ops.breakers import with_breakers
from integration_api.ops.inventory import stale_before
from integration_api.ops.opstage.accounts import LIST_PAGE_SIZE, list_result
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
    def __init__(
        self,
        operations: Operations,
        agent_code: str,
        check_interval: float,
        page_size: int = LIST_PAGE_SIZE,
    ) -> None:
        self._operations = operations
        self._principal = agent_principal(agent_code)
        self._interval = check_interval
        self._page_size = page_size

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
            principal = self._console_user(command)
        except Unauthenticated:
            return failed("ACTION_FAILED", "the command names an unusable console user id")
        try:
            return await self._execute(principal, action, payload, provider)
        except ServiceError as error:
            return failed("ACTION_FAILED", error.message)

    def _console_user(self, command: dict[str, Any]) -> Principal:
        """Who asked: the console user the command names, else the agent itself."""
        user = actor_id(command, "createdByUserId")
        return replace(self._principal, subject=user) if user else self._principal

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
        if "credentialId" not in schema["properties"]:
            return CommandResult(True, "ready", {"action": definition, "initialPayload": {}})
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
        self, principal: Principal, action: str, payload: dict[str, Any], provider: str | None
    ) -> CommandResult:
        credential_id = str(payload.get("credentialId") or "")
        reason = str(payload.get("reason") or "")
        if action == "runHealthCheck":
            return await self._health(principal, credential_id, provider)
        if action == "listCredentials":
            return await self._list(
                str(payload.get("after") or ""), int(payload.get("first") or 1), provider
            )
        if action == "rotateKey":
            rotation = await self._operations.rotations.request(
                principal, credential_id, reason, via=self._principal.actor
            )
            return CommandResult(
                True,
                "rotation opened; confirm it with the new key through "
                "OperationsService.ConfirmRotation",
                {
                    "rotationId": rotation.id,
                    "credentialId": rotation.credential_id,
                    "requestedBy": rotation.requested_by,
                    "expiresAt": rotation.expires_at.isoformat(),
                },
            )
        rows = await self._operations.bulk_disable.disable_one(principal, credential_id, reason)
        return CommandResult(
            True, "credential disabled", {"credentialId": rows.id, "status": rows.status}
        )

    async def _list(self, after_id: str, first: int, provider: str | None) -> CommandResult:
        """One page of the provider's credentials, in creation order, after `after_id`."""
        if provider is None:
            return failed("ACTION_FAILED", "credentials are listed on a provider's service")
        repository = InventoryRepository(self._operations.database.pool)
        after = None
        if after_id:
            found = await repository.find(after_id)
            if found is None or found.provider != provider:
                return failed(
                    "ACTION_FAILED", "the previous page's last credential is gone; start again"
                )
            after = (found.created_at, uuid.UUID(found.id))
        scope = InventoryScope(None, provider)
        rows = await repository.page(
            scope,
            stale_before=stale_before(self._interval),
            effective_status=None,
            limit=self._page_size + 1,
            after=after,
        )
        page = await with_breakers(rows[: self._page_size], self._operations.gate)
        total = sum(item.credentials for item in await repository.aggregates(scope))
        more = len(rows) > self._page_size
        listed = list_result(provider, page, total, first, more, self._page_size)
        return CommandResult(True, f"{len(page)} of {total} credential(s)", {"list": listed})

    async def _health(
        self, principal: Principal, credential_id: str, provider: str | None
    ) -> CommandResult:
        checked = await self._operations.run_health_check(
            principal,
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
