"""The agent's life: register (once), report services, heartbeat, poll commands, post results.

What Opstage shows is only as fresh as the last report, and Opstage forgets: when it marks an
agent OFFLINE (no heartbeat for 90 s by default) its sweep sets every service of that agent to
STALE/UNKNOWN, and a heartbeat refreshes only the agent. So every session (a start, a reconnect
after the backend failed a call, or a resumption after the process was frozen longer than a
heartbeat interval) begins with a heartbeat, which brings the agent back ONLINE, then a report
of every service in full; a full report also goes out every `report_every` seconds, so each
service's `lastReportedAt` and `lastHealthAt` stay that fresh. In between, a service is sent
again as soon as anything in it changes (checked at each command poll).

It runs only on the replica holding the operations lease. A backend that is down or slow costs
a backoff with jitter (never a growing queue: at most one poll's commands are handled at a
time, and a result the backend cannot take is dropped, the command then expires there). An
agent disabled or revoked in the console stops acting and says so in the log and the
`integration_api_opstage_agent_state` metric. Readiness never depends on Opstage.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from integration_api.ops.metrics import set_agent_state
from integration_api.ops.opstage.actions import ActionRunner, failed, provider_of_service
from integration_api.ops.opstage.client import OpstageClient, OpstageError
from integration_api.ops.opstage.drift import DriftTracker
from integration_api.ops.opstage.identity import AgentIdentity
from integration_api.ops.opstage.report import SERVICE_CODE, ServiceReport

log = structlog.get_logger("integration_api.opstage")

COMMANDS_PER_POLL = 10
# Every service is reported in full at least this often (also the console's freshness).
REPORT_EVERY_SECONDS = 60.0


class AgentStopped(Exception):
    """The console disabled or revoked this agent: it must stop acting."""


@dataclass
class Backoff:
    initial: float
    maximum: float
    _next: float = 0.0

    def delay(self) -> float:
        """Full jitter: a random wait up to a ceiling that doubles per failure."""
        self._next = min(self.maximum, max(self.initial, self._next * 2))
        return random.uniform(self.initial / 2, self._next)

    def reset(self) -> None:
        self._next = 0.0


class OpstageAgent:
    def __init__(
        self,
        client: OpstageClient,
        identity: AgentIdentity,
        report: ServiceReport,
        runner: ActionRunner,
        backoff: Backoff,
        drift: DriftTracker,
        report_every: float = REPORT_EVERY_SECONDS,
    ) -> None:
        self._client = client
        self._identity = identity
        self._report = report
        self._runner = runner
        self._backoff = backoff
        self._drift = drift
        self._report_every = report_every
        self._heartbeat_every = 30.0
        self._poll_every = 5.0
        # Each service as last sent in this session (its JSON), by code.
        self._sent: dict[str, str] = {}
        self._latest: list[dict[str, Any]] | None = None
        self._service_codes: dict[str, str] = {}
        # When the backend last answered, on both clocks: a frozen process sees both move on, a
        # suspended machine only the wall clock.
        self._answered = (time.monotonic(), time.time())
        # The longest silence an answer ended since the loop last looked (0: none worth noting).
        self._gap = 0.0
        self.state = "standby"

    def _enter(self, state: str) -> None:
        if state != self.state:
            log.info("opstage agent state", state=state)
        self.state = state
        set_agent_state(state)

    async def run(self) -> None:
        """Until cancelled (the lease was lost) or stopped by the console."""
        while True:
            try:
                await self._session()
            except AgentStopped as stopped:
                log.warning("opstage agent stopped by the console", reason=str(stopped))
                return
            except OpstageError as error:
                if not error.unreachable:
                    log.error("opstage refused the agent", status=error.status, code=error.code)
                elif error.status >= 500:
                    # Opstage CE answers a body its schemas reject with 500 INTERNAL_ERROR, not
                    # 400: an answer, unlike silence, may be this agent's report at fault.
                    log.warning("opstage backend failed", status=error.status, code=error.code)
                self._enter("backend_unreachable")
                await asyncio.sleep(self._backoff.delay())
            except Exception as error:  # noqa: BLE001 - e.g. the database is not reachable yet
                log.warning("opstage agent paused", error_type=type(error).__name__)
                await asyncio.sleep(self._backoff.delay())

    async def _session(self) -> None:
        await self._sign_in()
        self._sent = {}
        self._answered = (time.monotonic(), time.time())
        self._gap = 0.0
        next_heartbeat = next_full_report = 0.0
        while True:
            silence, self._gap = max(self._silence(), self._gap), 0.0
            if silence > self._heartbeat_every:
                # Frozen, or starved: Opstage may have swept this agent's services meanwhile.
                log.info("opstage agent resumes after a silence", seconds=round(silence, 1))
                next_heartbeat = next_full_report = 0.0
            if time.monotonic() >= next_heartbeat:
                await self._heartbeat()
                next_heartbeat = time.monotonic() + self._heartbeat_every
            full = time.monotonic() >= next_full_report
            await self._send_report(full=full)
            if full:
                next_full_report = time.monotonic() + self._report_every
            commands = await self._guarded(self._client.poll_commands(COMMANDS_PER_POLL))
            self._enter("online")
            self._backoff.reset()
            for command in commands:
                await self._handle(command)
            await asyncio.sleep(self._poll_every)

    async def _sign_in(self) -> None:
        stored = await self._identity.stored()
        if stored is not None:
            self._client.authenticate(*stored)
            return
        if await self._identity.registration_token_used():
            self._enter("revoked")
            raise AgentStopped("the registration token was used already; issue a new one")
        self._enter("registering")
        services = await self._report.services()
        try:
            registration = await self._identity.register(self._client, services[0])
        except OpstageError as error:
            if error.unreachable:
                raise
            self._enter("revoked")
            raise AgentStopped(f"registration refused ({error.code})") from None
        self._client.authenticate(registration.agent_id, registration.agent_token)
        self._heartbeat_every = registration.heartbeat_interval_seconds
        self._poll_every = registration.command_poll_interval_seconds

    def _silence(self) -> float:
        monotonic, wall = self._answered
        return max(time.monotonic() - monotonic, time.time() - wall)

    async def _guarded(self, call: Any) -> Any:
        """Awaits a call on the agent's endpoints; a disabled or revoked agent stops here."""
        try:
            answer = await call
        except OpstageError as error:
            if error.status in (401, 403):
                state = "disabled" if "DISABLED" in error.code else "revoked"
                self._enter(state)
                raise AgentStopped(error.code) from None
            raise
        # A call in flight while the process stood still is answered after it: the silence it
        # ended counts as well as the one the loop sees.
        self._gap = max(self._gap, self._silence())
        self._answered = (time.monotonic(), time.time())
        return answer

    async def _heartbeat(self) -> None:
        if self._latest is None:
            self._latest = await self._report.services()
        body: dict[str, Any] = {"health": self._latest[0]["health"]}
        if SERVICE_CODE in self._service_codes.values():
            service_id = next(k for k, v in self._service_codes.items() if v == SERVICE_CODE)
            body["serviceId"] = service_id
        self._heartbeat_every, self._poll_every = await self._guarded(self._client.heartbeat(body))

    async def _send_report(self, *, full: bool) -> None:
        """Every service (`full`), else those that changed since sent; then their drift."""
        previous, position = await self._drift.previous()
        services = await self._report.services(retired=list(previous))
        plan = await self._drift.plan(services, previous, position, refresh=full)
        self._latest = services
        shown = {str(s["code"]): json.dumps(s, sort_keys=True) for s in services}
        due = [s for s in services if full or self._sent.get(str(s["code"])) != shown[s["code"]]]
        if due:
            answer = await self._guarded(self._client.report_services(due))
            for service in due:
                self._sent[str(service["code"])] = shown[service["code"]]
            for service in answer.get("services", []) if isinstance(answer, dict) else []:
                if isinstance(service, dict) and "id" in service:
                    self._service_codes[str(service["id"])] = str(service.get("code", ""))
        await self._drift.commit(plan)

    async def _handle(self, command: dict[str, Any]) -> None:
        command_id = str(command.get("id", ""))
        started = _now()
        service_code = self._service_codes.get(str(command.get("serviceId", "")))
        try:
            result = await self._runner.run(command, provider_of_service(service_code))
        except Exception as error:  # noqa: BLE001 - a broken handler fails its command only
            log.error(
                "opstage command failed", command_id=command_id, error_type=type(error).__name__
            )
            result = failed("ACTION_FAILED", "the action failed; see the service's log")
        body = {**result.body(), "startedAt": started, "finishedAt": _now()}
        try:
            await self._guarded(self._client.post_result(command_id, body))
        except OpstageError as error:
            # 409: cancelled or expired meanwhile; 413/500: the backend will not take it.
            # Neither gets better by retrying, so the result is logged and dropped.
            log.warning(
                "opstage did not take a command result",
                command_id=command_id,
                status=error.status,
                code=error.code,
            )
            if error.unreachable and error.status == 0:
                raise


def _now() -> str:
    return datetime.now(UTC).isoformat()
