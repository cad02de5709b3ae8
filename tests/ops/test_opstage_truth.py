"""What Opstage shows is true: no ghost provider, nothing left stale after an outage or a freeze,
fresh timestamps, one row per credential, and each config change in this service's audit trail.

Against the fake backend, which keeps services as Opstage CE does (an agent cannot delete one;
its maintenance sweep sets the services of an OFFLINE agent STALE/UNKNOWN; only a report or a
heartbeat naming a service moves it back).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from integration_api_proto.integration.v1 import (
    AuditFilter,
    CredentialConfig,
    DeleteCredentialRequest,
    DisableCredentialRequest,
    ListAuditEventsRequest,
    UpdateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    OperationsServiceStub,
)

from integration_api.ops.opstage.actions import ActionRunner
from integration_api.vault import generate_key
from tests.fakes.opstage import FakeOpstage
from tests.fakes.server import FakeServer
from tests.ops.support import Caller
from tests.ops.test_opstage_agent import (
    _finished,
    _state,
    _stored_openai,
    agent_settings,
    until,
)
from tests.support.service import RunningService, running_service

OPENAI = "provider-openai"


@pytest.fixture
async def opstage() -> AsyncIterator[FakeOpstage]:
    async with FakeServer() as server:
        yield FakeOpstage(server)


def _service(
    dsn: str, opstage: FakeOpstage, token: str, *, report_every: float = 60.0, **shared: object
) -> Any:
    settings = dataclasses.replace(
        agent_settings(opstage, token), opstage_report_interval_seconds=report_every
    )
    return running_service(dsn, operations=settings, **shared)


def _shown(opstage: FakeOpstage, code: str) -> dict[str, Any]:
    return (
        opstage.admin_service(code)
        if any(s["code"] == code for s in opstage.services.values())
        else {}
    )


def _status(opstage: FakeOpstage, code: str) -> str:
    return str(_shown(opstage, code).get("status", ""))


async def _audit(service: RunningService, action: str, target_id: str = "") -> list[Any]:
    answer = await OperationsServiceStub(service.channel).list_audit_events(
        ListAuditEventsRequest(
            filter=AuditFilter(action=action, target_id=target_id), page_size=100
        ),
        metadata=service.operator_auth(),
    )
    return list(answer.events)


async def test_a_provider_whose_last_credential_is_deleted_says_so_even_after_a_restart(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    shared: dict[str, Any] = {"secret": secrets.token_urlsafe(48), "crypto_key": generate_key()}
    async with _service(empty_database_dsn, opstage, token, **shared) as service:
        credential_id = await _stored_openai(service, *openai_fake)
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY")
        await CredentialServiceStub(service.channel).delete_credential(
            DeleteCredentialRequest(id=credential_id), metadata=service.auth()
        )
        await until(lambda: _shown(opstage, OPENAI)["configs"]["CREDENTIALS_TOTAL"] == "0")
        deleted_by = (await _audit(service, action="credential.delete"))[0].actor
    shown = _shown(opstage, OPENAI)
    assert (shown["status"], shown["healthStatus"]) == ("UNKNOWN", "UNKNOWN")
    assert shown["health"]["message"] == "no credentials"
    assert shown["health"]["details"]["accounts"] == []
    assert shown["configs"]["MODEL_DEFAULT"] == "" and shown["configs"]["UPSTREAM_URL"] == ""
    assert shown["configs"]["LAST_CHANGE_BY"] == deleted_by
    assert shown["actions"] == []

    # The process stops; Opstage sweeps its agent OFFLINE; a new process reports it again.
    opstage.sweep(offline_after_seconds=0)
    assert _shown(opstage, OPENAI)["storedStatus"] == "STALE"
    swept = datetime.now().astimezone()
    async with _service(empty_database_dsn, opstage, token, **shared):
        await until(lambda: _shown(opstage, OPENAI)["storedStatus"] == "UNKNOWN")
    shown = _shown(opstage, OPENAI)
    assert datetime.fromisoformat(shown["lastReportedAt"]) >= swept
    assert shown["health"]["message"] == "no credentials"
    assert shown["configs"]["CREDENTIALS_TOTAL"] == "0"


async def test_after_an_outage_and_a_sweep_every_service_is_reported_again(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    async with _service(empty_database_dsn, opstage, token) as service:
        await _stored_openai(service, *openai_fake)
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY")
        opstage.server.answer_with_status(503, {"success": False, "error": {"code": "DOWN"}})
        await until(lambda: _state("backend_unreachable") == 1)
        assert opstage.sweep(offline_after_seconds=0) == (1, 2)
        assert (_status(opstage, OPENAI), _shown(opstage, OPENAI)["healthStatus"]) == (
            "OFFLINE",
            "UNKNOWN",
        )
        reports_before = len(opstage.reports)
        opstage.server.behave_normally()
        await until(
            lambda: (
                _status(opstage, OPENAI) == "HEALTHY"
                and _status(opstage, "integration-api") == "HEALTHY"
            )
        )
    assert _shown(opstage, OPENAI)["healthStatus"] == "UP"
    # The agent came back ONLINE (heartbeat) before its report, or the next sweep would undo it.
    assert all(status == "ONLINE" for status, _ in opstage.reports[reports_before:])


async def test_after_the_process_was_frozen_past_the_threshold_it_reports_again(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    async with _service(empty_database_dsn, opstage, token) as service:
        await _stored_openai(service, *openai_fake)
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY")
        # Blocks the event loop: the service, its agent and the fake backend all stand still,
        # as in a SIGSTOP; then the backend's sweep runs first.
        time.sleep(1.0)  # noqa: ASYNC251
        opstage.sweep(offline_after_seconds=0.5)
        assert _shown(opstage, OPENAI)["storedStatus"] == "STALE"
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY", seconds=10)
    # Not the periodic report (a minute away here): the resumption itself.
    assert _shown(opstage, OPENAI)["healthStatus"] == "UP"


async def test_a_poll_answered_only_after_the_freeze_does_not_hide_it(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    # A timeout longer than the freeze, or the held poll would end as a timeout instead.
    settings = dataclasses.replace(
        agent_settings(opstage, token),
        opstage_report_interval_seconds=60.0,
        opstage_timeout_seconds=5.0,
    )
    async with running_service(empty_database_dsn, operations=settings) as service:
        await _stored_openai(service, *openai_fake)
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY")
        # A poll in flight when the process stops is answered once it runs again: that answer
        # must not pass for a backend heard from a moment ago.
        opstage.polls_held = asyncio.Event()
        polls = len([r for r in opstage.server.requests if r.path.endswith("/commands")])
        await until(
            lambda: (
                len([r for r in opstage.server.requests if r.path.endswith("/commands")]) > polls
            )
        )
        time.sleep(1.0)  # noqa: ASYNC251
        opstage.sweep(offline_after_seconds=0.5)
        assert _shown(opstage, OPENAI)["storedStatus"] == "STALE"
        opstage.polls_held.set()
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY", seconds=3)
        opstage.polls_held = None


async def test_full_reports_keep_the_timestamps_fresh_without_resending_on_every_poll(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    async with _service(empty_database_dsn, opstage, token, report_every=0.5) as service:
        await _stored_openai(service, *openai_fake)
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY")
        first = _shown(opstage, OPENAI)["lastReportedAt"]
        await until(lambda: _shown(opstage, OPENAI)["lastReportedAt"] != first, seconds=10)
        second = _shown(opstage, OPENAI)
        assert second["lastHealthAt"] == second["lastReportedAt"] > first
        reports = len(opstage.reports)
        polls = len([r for r in opstage.server.requests if r.path.endswith("/commands")])
        await until(lambda: len(opstage.reports) >= reports + 3, seconds=10)
        polls = len([r for r in opstage.server.requests if r.path.endswith("/commands")]) - polls
    # Unchanged services go out with the full reports only, not with each command poll.
    assert polls > len(opstage.reports) - reports


async def test_each_credential_is_a_row_of_its_provider(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    async with _service(empty_database_dsn, opstage, token) as service:
        kept = await _stored_openai(service, *openai_fake)
        other_tenant = service.auth(organization_id="org-2", project_id="p2")
        disabled = await _stored_openai_as(service, openai_fake, other_tenant)
        await CredentialServiceStub(service.channel).disable_credential(
            DisableCredentialRequest(id=disabled, reason="suspected leak"), metadata=other_tenant
        )
        await until(lambda: _accounts(opstage).get(disabled, {}).get("enabled") is False)
        rows = _accounts(opstage)
        listed = await _finished(opstage.request_action(OPENAI, "listCredentials"))
    assert set(rows) == {kept, disabled}
    assert rows[kept]["operationStatus"] == "HEALTHY" and rows[kept]["lastCheckOutcome"] == "valid"
    assert rows[kept]["model"] == "gpt-4o-mini"
    assert rows[kept]["upstream"] == openai_fake[0].url + "/v1"
    assert rows[kept]["lastCheckAt"] is not None
    assert (rows[disabled]["organizationId"], rows[disabled]["projectId"]) == ("org-2", "p2")
    assert rows[disabled]["operationStatus"] == "DISABLED"
    # One of two enabled-or-not credentials is healthy: the provider is UP, with a note.
    assert _shown(opstage, OPENAI)["health"]["message"] == "1 healthy, 1 disabled"
    table = listed["data"]["list"]
    assert {row["id"] for row in table["data"]} == {kept, disabled}
    assert table["rowActions"][0] == {
        "label": "Check",
        "action": "runHealthCheck",
        "payload": {"credentialId": "$row.id"},
    }
    assert not any(key in str(opstage.services) for key in openai_fake[1])


async def _stored_openai_as(
    service: RunningService, openai_fake: tuple[FakeServer, set[str]], metadata: Any
) -> str:
    from tests.credentials.helpers import openai_request

    key = "sk-proj-" + secrets.token_urlsafe(24)
    openai_fake[1].add(key)
    response = await CredentialServiceStub(service.channel).create_credential(
        openai_request(key, openai_fake[0].url, name="second"), metadata=metadata
    )
    assert response.credential is not None
    return response.credential.id


def _accounts(opstage: FakeOpstage) -> dict[str, dict[str, Any]]:
    health = _shown(opstage, OPENAI).get("health") or {}
    return {row["id"]: row for row in health.get("details", {}).get("accounts", [])}


async def test_a_config_change_is_an_audit_event_and_the_report_names_who_and_when(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    async with _service(empty_database_dsn, opstage, token) as service:
        # Reported before the first key is stored: the provider's appearance is a change.
        await until(lambda: _status(opstage, "integration-api") == "HEALTHY")
        await _first_report_remembered(service)
        credential_id = await _stored_openai(service, *openai_fake)
        await until(lambda: _status(opstage, OPENAI) == "HEALTHY")
        alice = service.auth(user_id="alice")
        await CredentialServiceStub(service.channel).update_credential(
            UpdateCredentialRequest(
                id=credential_id,
                config=CredentialConfig(
                    base_url=openai_fake[0].url + "/v1", default_model="gpt-4.1-mini"
                ),
            ),
            metadata=alice,
        )
        await until(lambda: _shown(opstage, OPENAI)["configs"]["MODEL_DEFAULT"] == "gpt-4.1-mini")
        updated = (await _audit(service, action="credential.update"))[0]
        drift = await _drift_events(service, "MODEL_DEFAULT")
    configs = _shown(opstage, OPENAI)["configs"]
    assert configs["LAST_CHANGE_BY"] == updated.actor
    changed_at = datetime.fromisoformat(configs["LAST_CHANGE_AT"])
    assert updated.occurred_at is not None
    assert abs((changed_at - updated.occurred_at).total_seconds()) < 0.01
    model = [e for e in drift if e.details and e.details.to_dict()["key"] == "MODEL_DEFAULT"]
    details = model[0].details.to_dict() if model[0].details else {}
    assert details["oldValue"] == "gpt-4o-mini" and details["newValue"] == "gpt-4.1-mini"
    assert details["changedBy"] == updated.actor
    assert datetime.fromisoformat(details["changedAt"]) == changed_at
    # The provider's first appearance was a change too, by whoever stored its first key.
    created = [
        e.details.to_dict()
        for e in drift
        if e.details and e.details.to_dict()["key"] == "CREDENTIALS_TOTAL"
    ]
    assert [(c.get("oldValue"), c["newValue"]) for c in created] == [(None, "1")]
    assert created[0]["changedBy"] == "subject:user-1" and created[0]["changedAt"]
    # Opstage's own entries say only that a report arrived.
    assert all(entry["metadata"] == {} for entry in opstage.audit)


async def _first_report_remembered(service: RunningService) -> None:
    """The agent's first report is recorded as its starting point (after it was sent): a
    provider reported only later is then a change, not part of that starting point."""
    pool = service.app.runtime.database.pool
    for _ in range(250):
        if await pool.fetchval("SELECT count(*) FROM opstage_reported_services"):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the first report was never remembered")


async def _drift_events(service: RunningService, key: str) -> list[Any]:
    """The provider's drift events, once one for `key` is there (written after the report)."""
    for _ in range(250):
        events = await _audit(service, action="opstage.config.changed", target_id=OPENAI)
        if any(e.details and e.details.to_dict()["key"] == key for e in events):
            return events
        await asyncio.sleep(0.02)
    raise AssertionError(f"no drift event for {key}")


async def test_list_credentials_pages_through_every_credential_of_the_provider(
    caller: Caller,
) -> None:
    organization = "org-" + secrets.token_hex(3)
    mine = {(await caller.stored(organization))[0].id for _ in range(3)}
    runtime = caller.service.app.runtime
    assert runtime is not None
    runner = ActionRunner(runtime.operations, "opstage-list-test", 300, page_size=2)
    seen: list[str] = []
    payload: dict[str, Any] = {}
    for _ in range(1000):
        command = {"type": "ACTION_EXECUTE", "actionName": "listCredentials", "payload": payload}
        result = await runner.run(command, "openai")
        assert result.success and result.data is not None
        table = result.data["list"]
        assert len(table["data"]) <= 2
        assert table["title"].endswith(f"of {table['title'].split(' of ')[1]}")
        seen += [row["id"] for row in table["data"]]
        if "pageActions" not in table:
            break
        payload = table["pageActions"][0]["payload"]
        assert payload["first"] == len(seen) + 1
    assert mine <= set(seen)
    assert len(seen) == len(set(seen))
    elsewhere = await runner.run(
        {"type": "ACTION_EXECUTE", "actionName": "listCredentials", "payload": {}}, None
    )
    assert not elsewhere.success
