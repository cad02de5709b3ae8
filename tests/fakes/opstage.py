"""A fake Opstage CE backend on 127.0.0.1 that enforces the agent contract as the real one does.

Envelopes `{success, data}` / `{success: false, error: {code, message}}`; single-use
registration tokens (re-registering a code revokes its earlier agent tokens); bearer agent
tokens, 401 for an unknown one and 403 for a DISABLED or REVOKED agent; an agent touches only
its own path; commands go PENDING → RUNNING when polled (limit ≤ 10) → SUCCEEDED/FAILED on a
result, and a result for a terminal command gets 409 COMMAND_ALREADY_COMPLETED; a malformed
body, and a body the backend's schemas reject, gets 500 INTERNAL_ERROR (the backend's error
handler gives a schema failure no status of its own; this fake's checks, stricter than those
schemas, answer the same way); a registration answers 200; results are stored after
`redactSecrets()`; the confirmation gate and the agent freshness checks apply when an operator
asks for an action, and a command carries the id of the console user who created it
(`createdByUserId`, null for one no person created).

Services live as the backend keeps them: a report (or a registration carrying a service)
upserts each by code, replaces its configs and actions, sets `lastReportedAt`, and, with a
health, its `healthStatus`, stored `status` (UP → HEALTHY, DEGRADED/DOWN → UNHEALTHY, else
UNKNOWN), `lastHealthAt` and latest health report (details after `redactSecrets()`); services
absent from a report are left as they are (an agent cannot delete one). A heartbeat or a command
poll brings the agent ONLINE and refreshes its `lastHeartbeatAt`; a heartbeat with `serviceId`
and `health` updates that service's health only; a report does neither. `sweep()` is the
backend's maintenance run: agents silent past the threshold go OFFLINE, and every service of an
OFFLINE agent not yet OFFLINE or STALE becomes STALE with health UNKNOWN. `admin_service()` is
what the admin API shows: the effective status derived from the agent (OFFLINE when the agent is
OFFLINE, DISABLED or REVOKED; STALE when its heartbeat is older than the threshold), the latest
health report, configs and actions. Each reported service gets a `service.reported` audit entry
with no details.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.server import ROUTE_MATCH, FakeServer, json_response

SECRET_KEY = re.compile(
    r"token|secret|password|cookie|authorization|api[-_]?key\b|generatedKey|rawKey|plainTextKey",
    re.IGNORECASE,
)
SERVICE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
AGENT_CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TERMINAL = {"SUCCEEDED", "FAILED", "EXPIRED", "CANCELLED"}
RESULT_MAX_BYTES = 1024 * 1024
HEALTH_STATUSES = ("UP", "DEGRADED", "DOWN", "UNKNOWN")
OFFLINE_THRESHOLD_SECONDS = 90.0


def stored_status(health_status: str) -> str:
    """The backend's `effectiveServiceStatus` of a reported health."""
    if health_status == "UP":
        return "HEALTHY"
    if health_status in ("DEGRADED", "DOWN"):
        return "UNHEALTHY"
    return "UNKNOWN"


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat()


def redact_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "[REDACTED]" if SECRET_KEY.search(key) else redact_secrets(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value


def ok(data: object, status: int = 200) -> web.Response:
    return json_response(status, {"success": True, "data": data})


def refuse(status: int, code: str, message: str = "") -> web.Response:
    return json_response(status, {"success": False, "error": {"code": code, "message": message}})


class Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


@dataclass
class Agent:
    id: str
    code: str
    tokens: set[str] = field(default_factory=set)
    status: str = "PENDING"
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    # time.time() of the last heartbeat or command poll (registering counts as one).
    last_heartbeat_at: float | None = None


@dataclass
class Command:
    id: str
    agent_id: str
    service_id: str
    type: str
    action_name: str
    payload: dict[str, Any]
    # The console user who asked (`usr_…`); None for a command no person created (a bus route).
    created_by_user_id: str | None = None
    status: str = "PENDING"
    result: dict[str, Any] | None = None


class FakeOpstage:
    def __init__(
        self, server: FakeServer, heartbeat_seconds: float = 0.3, poll_seconds: float = 0.05
    ) -> None:
        self.server = server
        self.intervals = {
            "heartbeatIntervalSeconds": heartbeat_seconds,
            "commandPollIntervalSeconds": poll_seconds,
        }
        self.registration_tokens: dict[str, str] = {}
        self.agents: dict[str, Agent] = {}
        self.services: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, Command] = {}
        self.results_refused_with: int = 0
        # A status every service report gets (0: none), as for a report the schemas reject.
        self.reports_refused_with: int = 0
        # While set and not yet released, a command poll waits for it before it is answered.
        self.polls_held: asyncio.Event | None = None
        self.offline_threshold_seconds = OFFLINE_THRESHOLD_SECONDS
        self.audit: list[dict[str, Any]] = []
        # Each report accepted: the agent's status when it arrived, and the codes it carried.
        self.reports: list[tuple[str, list[str]]] = []
        # Commands an operator cancels right after the agent claimed them.
        self.cancel_when_claimed: set[str] = set()
        server.route("POST", "/api/agents/register", self._register)
        server.route("POST", re.compile(r"/api/agents/(?P<agent>[^/]+)/heartbeat"), self._heartbeat)
        server.route(
            "POST", re.compile(r"/api/agents/(?P<agent>[^/]+)/services/report"), self._report
        )
        server.route("GET", re.compile(r"/api/agents/(?P<agent>[^/]+)/commands"), self._poll)
        server.route(
            "POST",
            re.compile(r"/api/agents/(?P<agent>[^/]+)/commands/(?P<command>[^/]+)/result"),
            self._result,
        )

    # What an operator does in the console.

    def issue_registration_token(self) -> str:
        token = "opstage_reg_" + secrets.token_urlsafe(24)
        self.registration_tokens[token] = "ACTIVE"
        return token

    def only_agent(self) -> Agent:
        assert len(self.agents) == 1, f"{len(self.agents)} agents registered"
        return next(iter(self.agents.values()))

    def service(self, code: str) -> dict[str, Any]:
        return next(s for s in self.services.values() if s["code"] == code)

    def request_action(
        self,
        service_code: str,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        confirmation: bool = False,
        prepare: bool = False,
        user: str | None = "usr_admin",
    ) -> Command:
        """GET (prepare) or POST (execute) …/actions/{name}: raises Refused like a 409/404."""
        service = self.service(service_code)
        definition = next((a for a in service.get("actions", []) if a["name"] == action), None)
        if definition is None:
            raise Refused(404, "ACTION_NOT_FOUND")
        agent = self.agents[service["agentId"]]
        if agent.status in ("OFFLINE", "DISABLED", "REVOKED"):
            raise Refused(409, f"AGENT_{agent.status}")
        if agent.last_heartbeat_at is None:
            raise Refused(409, "AGENT_NOT_READY")
        if time.time() - agent.last_heartbeat_at > self.offline_threshold_seconds:
            raise Refused(409, "AGENT_HEARTBEAT_STALE")
        if not prepare and definition.get("requiresConfirmation") and confirmation is not True:
            raise Refused(409, "ACTION_REQUIRES_CONFIRMATION")
        command = Command(
            "cmd_" + secrets.token_hex(6),
            agent.id,
            service["id"],
            "ACTION_PREPARE" if prepare else "ACTION_EXECUTE",
            action,
            payload or {},
            user,
        )
        self.commands[command.id] = command
        return command

    def set_agent_status(self, status: str) -> None:
        self.only_agent().status = status

    def sweep(self, offline_after_seconds: float | None = None) -> tuple[int, int]:
        """The maintenance run; returns (agents now OFFLINE, services now STALE)."""
        threshold = self.offline_threshold_seconds
        if offline_after_seconds is not None:
            threshold = offline_after_seconds
        cutoff = time.time() - threshold
        offline = 0
        for agent in self.agents.values():
            if (
                agent.status == "ONLINE"
                and agent.last_heartbeat_at is not None
                and agent.last_heartbeat_at < cutoff
            ):
                agent.status = "OFFLINE"
                offline += 1
        stale = 0
        for service in self.services.values():
            owner = self.agents.get(service["agentId"])
            swept = owner is not None and owner.status == "OFFLINE"
            if swept and service["status"] not in ("OFFLINE", "STALE"):
                service["status"], service["healthStatus"] = "STALE", "UNKNOWN"
                stale += 1
        return offline, stale

    def admin_service(self, code: str) -> dict[str, Any]:
        """GET /api/admin/capsule-services/{id}: the service as an operator sees it."""
        service = self.service(code)
        agent = self.agents.get(service["agentId"])
        if agent is None or agent.status in ("REVOKED", "DISABLED", "OFFLINE"):
            effective = "OFFLINE"
        elif (
            agent.last_heartbeat_at is None
            or time.time() - agent.last_heartbeat_at > self.offline_threshold_seconds
        ):
            effective = "STALE"
        else:
            effective = service["status"]
        return {
            "id": service["id"],
            "code": service["code"],
            "name": service["name"],
            "description": service.get("description"),
            "status": effective,
            "storedStatus": service["status"],
            "healthStatus": service["healthStatus"],
            "lastReportedAt": service["lastReportedAt"],
            "lastHealthAt": service["lastHealthAt"],
            "health": service["latestHealth"],
            "configs": {item["key"]: item.get("valuePreview") for item in service["configs"]},
            "actions": [action["name"] for action in service["actions"]],
        }

    # The agent endpoints.

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise Refused(500, "INTERNAL_ERROR") from None
        if not isinstance(body, dict):
            raise Refused(500, "INTERNAL_ERROR")
        return body

    def _agent(self, request: web.Request) -> Agent:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        agent = next((a for a in self.agents.values() if token and token in a.tokens), None)
        if agent is None or not token.startswith("opstage_agent_"):
            raise Refused(401, "UNAUTHORIZED")
        if agent.status in ("DISABLED", "REVOKED"):
            raise Refused(403, f"AGENT_{agent.status}")
        if request[ROUTE_MATCH]["agent"] != agent.id:
            raise Refused(403, "FORBIDDEN")
        return agent

    async def _register(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
        except Refused as refused:
            return refuse(refused.status, refused.code)
        token = body.get("registrationToken")
        agent_in = body.get("agent")
        if not isinstance(agent_in, dict) or not AGENT_CODE.match(str(agent_in.get("code", ""))):
            return refuse(500, "INTERNAL_ERROR")
        if agent_in.get("mode") not in ("embedded", "ophub"):
            return refuse(500, "INTERNAL_ERROR")
        if self.registration_tokens.get(str(token)) != "ACTIVE":
            return refuse(401, "REGISTRATION_TOKEN_INVALID")
        self.registration_tokens[str(token)] = "USED"
        agent = next((a for a in self.agents.values() if a.code == agent_in["code"]), None)
        if agent is None:
            agent = Agent("agt_" + secrets.token_hex(6), agent_in["code"])
            self.agents[agent.id] = agent
        agent.tokens = {"opstage_agent_" + secrets.token_urlsafe(32)}
        agent.status = "ONLINE"
        agent.last_heartbeat_at = time.time()
        service = body.get("service")
        if isinstance(service, dict):
            try:
                self._validate(service)
            except Refused as refused:
                return refuse(refused.status, refused.code)
            self._upsert(agent, service)
        return ok({"agentId": agent.id, "agentToken": next(iter(agent.tokens)), **self.intervals})

    async def _heartbeat(self, request: web.Request) -> web.Response:
        try:
            agent = self._agent(request)
            body = await self._body(request)
        except Refused as refused:
            return refuse(refused.status, refused.code)
        health = body.get("health")
        if health is not None and health.get("status") not in HEALTH_STATUSES:
            return refuse(500, "INTERNAL_ERROR")
        agent.status = "ONLINE"
        agent.last_heartbeat_at = time.time()
        agent.heartbeats.append(body)
        service = self.services.get(str(body.get("serviceId", "")))
        if health is not None and service is not None and service["agentId"] == agent.id:
            self._record_health(service, health)
        return ok(self.intervals)

    def _record_health(
        self, service: dict[str, Any], health: dict[str, Any], moment: str | None = None
    ) -> None:
        moment = moment or _iso(time.time())
        service["healthStatus"] = health["status"]
        service["status"] = stored_status(health["status"])
        service["lastHealthAt"] = moment
        service["latestHealth"] = {
            "status": health["status"],
            "message": health.get("message"),
            "details": redact_secrets(health.get("details") or {}),
            "reportedAt": moment,
        }

    async def _report(self, request: web.Request) -> web.Response:
        try:
            agent = self._agent(request)
            body = await self._body(request)
            services = body.get("services")
            if self.reports_refused_with:
                raise Refused(self.reports_refused_with, "INTERNAL_ERROR")
            if not isinstance(services, list):
                raise Refused(500, "INTERNAL_ERROR")
            for service in services:
                self._validate(service)
            reported = [self._upsert(agent, service) for service in services]
        except Refused as refused:
            return refuse(refused.status, refused.code)
        self.reports.append((agent.status, [service["code"] for service in reported]))
        for service in reported:
            self.audit.append(
                {
                    "actorType": "AGENT",
                    "actorId": agent.id,
                    "action": "service.reported",
                    "targetType": "CapsuleService",
                    "targetId": service["id"],
                    "metadata": {},
                }
            )
        return ok({"services": reported})

    def _validate(self, service: dict[str, Any]) -> None:
        code = str(service.get("code", ""))
        manifest = service.get("manifest") or {}
        name = service.get("name")
        if not SERVICE_CODE.match(code) or len(code) > 80 or not name or len(name) > 200:
            raise Refused(500, "INTERNAL_ERROR")
        if len(service.get("description") or "") > 2000:
            raise Refused(500, "INTERNAL_ERROR")
        if service.get("runtime") not in ("nodejs", "java", "python", "go", "other"):
            raise Refused(500, "INTERNAL_ERROR")
        if manifest.get("kind") != "CapsuleService" or manifest.get("code") != code:
            raise Refused(500, "INTERNAL_ERROR")
        health = service.get("health")
        if health is not None and health.get("status") not in HEALTH_STATUSES:
            raise Refused(500, "INTERNAL_ERROR")
        for config in service.get("configs", []):
            if not isinstance(config.get("key"), str) or not isinstance(config.get("type"), str):
                raise Refused(500, "INTERNAL_ERROR")
        for action in service.get("actions", []):
            if not action.get("name") or not action.get("label"):
                raise Refused(500, "INTERNAL_ERROR")
            if action.get("dangerLevel") not in ("LOW", "MEDIUM", "HIGH"):
                raise Refused(500, "INTERNAL_ERROR")

    def _upsert(self, agent: Agent, service: dict[str, Any]) -> dict[str, Any]:
        code = str(service["code"])
        existing = next((s for s in self.services.values() if s["code"] == code), None)
        service_id = existing["id"] if existing else "svc_" + secrets.token_hex(6)
        health = service.get("health")
        moment = _iso(time.time())
        stored = {
            **service,
            "configs": list(service.get("configs", [])),
            "actions": list(service.get("actions", [])),
            "id": service_id,
            "agentId": agent.id,
            "lastReportedAt": moment,
            "lastHealthAt": existing["lastHealthAt"] if existing else None,
            "latestHealth": existing["latestHealth"] if existing else None,
            "healthStatus": "UNKNOWN",
            "status": "UNKNOWN",
        }
        self.services[service_id] = stored
        if health is not None:
            self._record_health(stored, health, moment)
        return {"id": service_id, "code": code, "status": stored["status"]}

    async def _poll(self, request: web.Request) -> web.Response:
        try:
            agent = self._agent(request)
        except Refused as refused:
            return refuse(refused.status, refused.code)
        if self.polls_held is not None:
            await self.polls_held.wait()
        limit = int(request.query.get("limit", "10"))
        if not 1 <= limit <= 10:
            return refuse(500, "INTERNAL_ERROR", "limit")
        agent.status = "ONLINE"
        agent.last_heartbeat_at = time.time()
        claimed = [
            c for c in self.commands.values() if c.agent_id == agent.id and c.status == "PENDING"
        ][:limit]
        for command in claimed:
            command.status = "RUNNING"
        answer = ok(
            [
                {
                    "id": c.id,
                    "agentId": c.agent_id,
                    "serviceId": c.service_id,
                    "type": c.type,
                    "actionName": c.action_name,
                    "payload": c.payload,
                    "createdByUserId": c.created_by_user_id,
                    "status": c.status,
                }
                for c in claimed
            ]
        )
        for command in claimed:
            if command.id in self.cancel_when_claimed:
                command.status = "CANCELLED"
        return answer

    async def _result(self, request: web.Request) -> web.Response:
        try:
            agent = self._agent(request)
            raw = await request.read()
            if len(raw) > RESULT_MAX_BYTES:
                raise Refused(413, "PAYLOAD_TOO_LARGE")
            if self.results_refused_with:
                raise Refused(self.results_refused_with, "INTERNAL_ERROR")
            body = await self._body(request)
        except Refused as refused:
            return refuse(refused.status, refused.code)
        command = self.commands.get(request[ROUTE_MATCH]["command"])
        if command is None or command.agent_id != agent.id:
            return refuse(404, "COMMAND_NOT_FOUND")
        if command.status in TERMINAL:
            return refuse(409, "COMMAND_ALREADY_COMPLETED")
        command.status = "SUCCEEDED" if body.get("success") is True else "FAILED"
        command.result = redact_secrets(body)
        return ok({"id": command.id, "status": command.status})
