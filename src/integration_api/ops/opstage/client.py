"""The Opstage backend's agent endpoints, over one small HTTP client of the agent's own.

That client (an aiohttp session, like the providers' but apart from it) carries the agent token
and nothing else: it is not subject to the providers' egress policy, follows no redirect (a
redirect could carry the token elsewhere), keeps no cookie and times out every call. Proxy
variables of the environment apply: the backend is the operator's own, often behind theirs.
Answers use the envelope `{success, data}` / `{success: false, error: {code, message}}`; a
failure becomes `OpstageError` with the HTTP status and the backend's error code, never the
response text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from integration_api.ops.metrics import OPSTAGE_CALLS

AGENT_TOKEN_PREFIX = "opstage_agent_"


class OpstageError(Exception):
    """The backend refused a call (status >= 400) or could not be reached (status 0)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"opstage answered {status} {code}")
        self.status = status
        self.code = code

    @property
    def unreachable(self) -> bool:
        """No verdict: the network, a timeout, a 5xx or a rate limit; worth retrying later."""
        return self.status == 0 or self.status == 429 or self.status >= 500


@dataclass(frozen=True)
class Registration:
    agent_id: str
    agent_token: str
    heartbeat_interval_seconds: float
    command_poll_interval_seconds: float


def _intervals(data: dict[str, Any]) -> tuple[float, float]:
    heartbeat = float(data.get("heartbeatIntervalSeconds") or 30)
    poll = float(data.get("commandPollIntervalSeconds") or 5)
    return max(heartbeat, 0.05), max(poll, 0.05)


class OpstageClient:
    def __init__(self, base_url: str, timeout_seconds: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # Made on first use: aiohttp binds a session to the running event loop.
        self._http: aiohttp.ClientSession | None = None
        self.agent_id = ""
        self._token = ""

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=4),
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=self._timeout,
                trust_env=True,
            )
        return self._http

    def authenticate(self, agent_id: str, agent_token: str) -> None:
        self.agent_id = agent_id
        self._token = agent_token

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def register(
        self, registration_token: str, agent: dict[str, Any], service: dict[str, Any] | None
    ) -> Registration:
        body: dict[str, Any] = {"registrationToken": registration_token, "agent": agent}
        if service is not None:
            body["service"] = service
        data = await self._call("register", "POST", "/api/agents/register", body, auth=False)
        heartbeat, poll = _intervals(data)
        return Registration(str(data["agentId"]), str(data["agentToken"]), heartbeat, poll)

    async def heartbeat(self, body: dict[str, Any]) -> tuple[float, float]:
        data = await self._call("heartbeat", "POST", self._agent_path("heartbeat"), body)
        return _intervals(data)

    async def report_services(self, services: list[dict[str, Any]]) -> dict[str, Any]:
        path = self._agent_path("services/report")
        data = await self._call("report", "POST", path, {"services": services})
        return data if isinstance(data, dict) else {}

    async def poll_commands(self, limit: int) -> list[dict[str, Any]]:
        path = self._agent_path(f"commands?limit={limit}")
        data = await self._call("commands", "GET", path, None)
        commands = data if isinstance(data, list) else data.get("commands", data.get("items", []))
        return [command for command in commands if isinstance(command, dict)]

    async def post_result(self, command_id: str, result: dict[str, Any]) -> None:
        path = self._agent_path(f"commands/{command_id}/result")
        await self._call("result", "POST", path, result)

    def _agent_path(self, rest: str) -> str:
        return f"/api/agents/{self.agent_id}/{rest}"

    async def _call(
        self, endpoint: str, method: str, path: str, body: object, *, auth: bool = True
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"} if auth else {}
        try:
            async with self._session().request(
                method,
                self._base_url + path,
                json=body,
                headers=headers,
                allow_redirects=False,
            ) as response:
                status = response.status
                content = await response.read()
        except (aiohttp.ClientError, OSError, TimeoutError):
            OPSTAGE_CALLS.labels(endpoint, "unreachable").inc()
            raise OpstageError(0, "UNREACHABLE") from None
        envelope = _envelope(content)
        if status >= 400 or not envelope.get("success", False):
            error = envelope.get("error")
            code = str(error.get("code", "")) if isinstance(error, dict) else ""
            OPSTAGE_CALLS.labels(endpoint, code or str(status)).inc()
            raise OpstageError(status, code or "UNKNOWN")
        OPSTAGE_CALLS.labels(endpoint, "ok").inc()
        return envelope.get("data") or {}


def _envelope(content: bytes) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
