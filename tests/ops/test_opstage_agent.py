"""The embedded Opstage agent against a fake backend that enforces the agent contract."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ConfirmRotationRequest,
    CredentialSecret,
    CredentialStatus,
    GetCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    OperationsServiceStub,
)
from structlog.testing import capture_logs

from integration_api.auth.tokens import mint_token
from integration_api.config import OperationsSettings
from integration_api.ops.metrics import OPSTAGE_AGENT_STATE
from integration_api.vault import generate_key
from tests.credentials.helpers import openai_request
from tests.fakes.opstage import Command, FakeOpstage, Refused
from tests.fakes.server import FakeServer
from tests.oauth.support import oauth_world
from tests.support.health_client import check_status
from tests.support.service import RunningService, running_service


async def until(condition: Callable[[], object], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


def agent_settings(opstage: FakeOpstage, token: str) -> OperationsSettings:
    return OperationsSettings(
        health_check_interval_seconds=0,
        lease_retry_seconds=0.05,
        opstage_url=opstage.server.url,
        opstage_registration_token=token,
        opstage_agent_code="integration-api-test",
        opstage_timeout_seconds=1.0,
        opstage_backoff_initial_seconds=0.05,
        opstage_backoff_max_seconds=0.2,
    )


@asynccontextmanager
async def agent_service(
    dsn: str, opstage: FakeOpstage, token: str, **shared: Any
) -> AsyncIterator[RunningService]:
    settings = agent_settings(opstage, token)
    async with running_service(dsn, operations=settings, **shared) as service:
        yield service


@pytest.fixture
async def opstage() -> AsyncIterator[FakeOpstage]:
    async with FakeServer() as server:
        yield FakeOpstage(server)


async def _stored_openai(service: RunningService, provider: FakeServer, accepted: set[str]) -> str:
    key = "sk-proj-" + secrets.token_urlsafe(24)
    accepted.add(key)
    response = await CredentialServiceStub(service.channel).create_credential(
        openai_request(key, provider.url, name="main"), metadata=service.auth()
    )
    assert response.credential is not None
    return response.credential.id


async def _finished(command: Command) -> dict[str, Any]:
    await until(lambda: command.result is not None)
    assert command.result is not None
    return command.result


def _state(name: str) -> float:
    return float(OPSTAGE_AGENT_STATE.labels(name)._value.get())


async def test_registers_once_reports_services_and_reuses_its_token_after_restart(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    shared = {"secret": secrets.token_urlsafe(48), "crypto_key": generate_key()}
    async with agent_service(empty_database_dsn, opstage, token, **shared) as service:
        await _stored_openai(service, *openai_fake)
        await until(lambda: any(s["code"] == "provider-openai" for s in opstage.services.values()))
        await until(lambda: opstage.only_agent().status == "ONLINE")
    assert opstage.registration_tokens[token] == "USED"
    provider = opstage.service("provider-openai")
    configs = {item["key"]: item for item in provider["configs"]}
    assert configs["MODEL_DEFAULT"]["valuePreview"] == "gpt-4o-mini"
    assert configs["UPSTREAM_URL"]["valuePreview"] == openai_fake[0].url + "/v1"
    assert {a["name"] for a in provider["actions"]} == {
        "listCredentials",
        "runHealthCheck",
        "rotateKey",
        "disableCredential",
    }
    itself = opstage.service("integration-api")
    assert itself["manifest"]["kind"] == "CapsuleService"
    assert not any(key in json.dumps(opstage.services) for key in openai_fake[1])
    heartbeats_before = len(opstage.only_agent().heartbeats)
    async with agent_service(empty_database_dsn, opstage, token, **shared):
        await until(lambda: len(opstage.only_agent().heartbeats) > heartbeats_before)
    assert len(opstage.agents) == 1


async def test_runs_health_checks_rotation_and_disable_from_the_console(
    empty_database_dsn: str, opstage: FakeOpstage, openai_fake: tuple[FakeServer, set[str]]
) -> None:
    token = opstage.issue_registration_token()
    async with agent_service(empty_database_dsn, opstage, token) as service:
        credential_id = await _stored_openai(service, *openai_fake)
        await until(lambda: any(s["code"] == "provider-openai" for s in opstage.services.values()))
        await until(lambda: opstage.only_agent().status == "ONLINE")
        prepared = await _finished(
            opstage.request_action("provider-openai", "rotateKey", prepare=True)
        )
        state = prepared["data"]["currentState"]["credentials"]
        assert [item["credentialId"] for item in state] == [credential_id]
        checked = await _finished(opstage.request_action("provider-openai", "runHealthCheck"))
        assert checked["success"] and checked["data"]["status"] == "UP"
        with pytest.raises(Refused) as refused:
            opstage.request_action("provider-openai", "rotateKey", {"credentialId": credential_id})
        assert refused.value.code == "ACTION_REQUIRES_CONFIRMATION"
        smuggled = await _finished(
            opstage.request_action(
                "provider-openai",
                "rotateKey",
                {"credentialId": credential_id, "reason": "leak", "newKey": "sk-proj-x"},
                confirmation=True,
            )
        )
        assert not smuggled["success"] and smuggled["error"]["code"] == "ACTION_FAILED"
        rotated = await _finished(
            opstage.request_action(
                "provider-openai",
                "rotateKey",
                {"credentialId": credential_id, "reason": "quarterly"},
                confirmation=True,
            )
        )
        assert rotated["success"]
        await _confirm(service, rotated["data"]["rotationId"], openai_fake[1])
        no_reason = await _finished(
            opstage.request_action(
                "provider-openai",
                "disableCredential",
                {"credentialId": credential_id},
                confirmation=True,
            )
        )
        assert no_reason["error"]["code"] == "ACTION_FAILED"
        disabled = await _finished(
            opstage.request_action(
                "provider-openai",
                "disableCredential",
                {"credentialId": credential_id, "reason": "suspected leak"},
                confirmation=True,
            )
        )
        assert disabled["success"]
        stored = await CredentialServiceStub(service.channel).get_credential(
            GetCredentialRequest(id=credential_id), metadata=service.auth()
        )
        assert stored.credential is not None
        assert stored.credential.status == CredentialStatus.DISABLED
        assert stored.credential.status_reason == "suspected leak"


async def _confirm(service: RunningService, rotation_id: str, accepted: set[str]) -> None:
    """A person confirms the console's rotation with the new key, over gRPC (not Opstage)."""
    key = "sk-proj-" + secrets.token_urlsafe(24)
    accepted.add(key)
    operator = mint_token(
        service.settings.secret, organization_id="o", project_id="p", subject="olga", operator=True
    )
    confirmed = await OperationsServiceStub(service.channel).confirm_rotation(
        ConfirmRotationRequest(
            rotation_id=rotation_id, secret=CredentialSecret(api_key=ApiKeySecret(key=key))
        ),
        metadata=(("authorization", f"Bearer {operator}"),),
    )
    assert confirmed.credential is not None
    assert confirmed.credential.secret_hint.endswith(key[-4:])


def _reported_config(opstage: FakeOpstage, key: str) -> str | None:
    services = [s for s in opstage.services.values() if s["code"] == "integration-api"]
    configs = {item["key"]: item["valuePreview"] for s in services for item in s["configs"]}
    return configs.get(key)


async def test_the_service_itself_counts_oauth_connections_per_oauth_provider(
    empty_database_dsn: str, opstage: FakeOpstage
) -> None:
    token = opstage.issue_registration_token()
    settings = agent_settings(opstage, token)
    async with oauth_world(empty_database_dsn, operations=settings) as world:
        await until(lambda: _reported_config(opstage, "OAUTH_GOOGLE_ACTIVE") == "0")
        for name in ("first", "second"):
            await world.connect("google", name)
        await until(lambda: _reported_config(opstage, "OAUTH_GOOGLE_ACTIVE") == "2")
    assert _reported_config(opstage, "OAUTH_GOOGLE_REAUTHORIZATION_REQUIRED") == "0"
    assert _reported_config(opstage, "OAUTH_GITHUB_ACTIVE") == "0"
    assert not any(
        t.access_token in json.dumps(opstage.services) for t in world.google.tokens.values()
    )


async def test_survives_the_backend_being_down_and_stays_serving(
    empty_database_dsn: str, opstage: FakeOpstage
) -> None:
    token = opstage.issue_registration_token()
    opstage.server.answer_with_status(503, {"success": False, "error": {"code": "DOWN"}})
    async with agent_service(empty_database_dsn, opstage, token) as service:
        await until(lambda: len(opstage.server.requests) >= 3)
        await until(lambda: _state("backend_unreachable") == 1)
        health = await check_status(service.channel, timeout=1)
        assert health == health_pb2.HealthCheckResponse.SERVING
        opstage.server.hang()
        await asyncio.sleep(0.3)
        opstage.server.behave_normally()
        await until(lambda: opstage.agents and opstage.only_agent().status == "ONLINE")


async def test_a_result_refused_with_500_or_409_is_dropped_and_the_agent_goes_on(
    empty_database_dsn: str, opstage: FakeOpstage
) -> None:
    token = opstage.issue_registration_token()
    async with agent_service(empty_database_dsn, opstage, token):
        await until(lambda: opstage.agents and opstage.only_agent().status == "ONLINE")
        opstage.results_refused_with = 500
        malformed = opstage.request_action("integration-api", "runHealthCheck")
        await until(lambda: _results_posted(opstage, malformed) == 1)
        await asyncio.sleep(0.3)
        assert _results_posted(opstage, malformed) == 1
        opstage.results_refused_with = 0
        cancelled = opstage.request_action("integration-api", "runHealthCheck")
        opstage.cancel_when_claimed.add(cancelled.id)
        await until(lambda: _results_posted(opstage, cancelled) == 1)
        later = await _finished(opstage.request_action("integration-api", "runHealthCheck"))
        assert later["success"]
        assert cancelled.status == "CANCELLED" and cancelled.result is None
        assert _results_posted(opstage, cancelled) == 1


def _results_posted(opstage: FakeOpstage, command: Command) -> int:
    path = f"/api/agents/{command.agent_id}/commands/{command.id}/result"
    return len(opstage.server.requests_to(path))


@pytest.mark.parametrize("status", ["DISABLED", "REVOKED"])
async def test_a_disabled_or_revoked_agent_stops_acting(
    empty_database_dsn: str, opstage: FakeOpstage, status: str
) -> None:
    token = opstage.issue_registration_token()
    async with agent_service(empty_database_dsn, opstage, token):
        await until(lambda: opstage.agents and opstage.only_agent().status == "ONLINE")
        opstage.set_agent_status(status)
        await until(lambda: _state(status.lower()) == 1)
        seen = len(opstage.server.requests)
        await asyncio.sleep(0.3)
        assert len(opstage.server.requests) == seen


async def test_a_used_registration_token_is_refused_and_the_agent_stays_off(
    empty_database_dsn: str, opstage: FakeOpstage
) -> None:
    token = opstage.issue_registration_token()
    opstage.registration_tokens[token] = "USED"
    async with agent_service(empty_database_dsn, opstage, token):
        await until(lambda: _state("revoked") == 1)
    assert opstage.agents == {}


async def test_without_opstage_settings_the_agent_is_off(empty_database_dsn: str) -> None:
    async with running_service(empty_database_dsn):
        assert _state("off") == 1


def test_reported_configs_hold_nothing_that_looks_secret() -> None:
    from integration_api.ops.opstage.report import config_item

    item = config_item("UPSTREAM_URL", "https://api.openai.com/v1", "Upstream URL")
    assert item["sensitive"] is False and "secretRef" not in item


async def test_a_report_the_backend_fails_with_500_is_logged_and_sent_again_in_full(
    empty_database_dsn: str, opstage: FakeOpstage
) -> None:
    # Opstage CE answers a report its schemas reject with 500 INTERNAL_ERROR, not a 400: the
    # agent says so with the status and code (silence would read as an unreachable backend),
    # stays serving, and reports every service again once the backend takes them.
    token = opstage.issue_registration_token()
    opstage.reports_refused_with = 500
    with capture_logs() as logs:
        async with agent_service(empty_database_dsn, opstage, token) as service:
            await until(lambda: any(entry["event"] == "opstage backend failed" for entry in logs))
            failed = next(entry for entry in logs if entry["event"] == "opstage backend failed")
            assert (failed["status"], failed["code"]) == (500, "INTERNAL_ERROR")
            assert _state("backend_unreachable") == 1
            health = await check_status(service.channel, timeout=1)
            assert health == health_pb2.HealthCheckResponse.SERVING
            assert opstage.reports == []
            opstage.reports_refused_with = 0
            await until(lambda: len(opstage.reports) >= 1)
            assert "integration-api" in opstage.reports[0][1]
            await until(lambda: _state("online") == 1)
