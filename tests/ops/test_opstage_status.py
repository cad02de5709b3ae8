"""A provider service's health follows what an operator means, row by row of the status table."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from integration_api.ops.opstage.accounts import account_row, report_accounts
from integration_api.ops.opstage.catalogue import payload_violations
from integration_api.ops.opstage.status import provider_health
from integration_api.store.inventory import InventoryRow
from integration_api.store.models import CredentialRow

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
OUTCOME = {"healthy": "valid", "degraded": "unreachable", "unhealthy": "invalid"}
# What Opstage CE makes of a reported health (`effectiveServiceStatus`).
CONSOLE = {"UP": "HEALTHY", "DEGRADED": "UNHEALTHY", "DOWN": "UNHEALTHY", "UNKNOWN": "UNKNOWN"}


def row(status: str, name: str = "main", message: str = "") -> InventoryRow:
    checked = status not in ("unknown",)
    credential = CredentialRow(
        id=str(uuid.uuid4()),
        organization_id="org-1",
        project_id="p1",
        provider="demo",
        name=name,
        config={"base_url": "https://llm.example/v1", "default_model": "m-1"},
        ciphertext=b"sealed",
        key_id="k1",
        secret_hint="…abcd",
        fingerprint="f" * 16,
        status="disabled" if status == "disabled" else "active",
        status_reason="suspected leak" if status == "disabled" else "",
        last_check_at=NOW - timedelta(minutes=5) if checked else None,
        last_check_outcome=OUTCOME.get(status, "valid") if checked else None,
        last_check_latency_ms=120 if checked else None,
        last_check_message=message,
        rotated_at=NOW - timedelta(days=1),
        rotated_by="subject:olga",
        created_at=NOW - timedelta(days=30),
        created_by="subject:alice",
        updated_at=NOW,
        version=1,
    )
    return InventoryRow(credential, status)


@pytest.mark.parametrize(
    ("statuses", "health", "console", "says"),
    [
        ([], "UNKNOWN", "UNKNOWN", "no credentials"),
        (["disabled"], "DOWN", "UNHEALTHY", "every credential is disabled"),
        (["disabled", "disabled"], "DOWN", "UNHEALTHY", "every credential is disabled"),
        (["unknown"], "UNKNOWN", "UNKNOWN", "not checked yet"),
        (["stale", "disabled"], "UNKNOWN", "UNKNOWN", "not checked yet"),
        (["healthy"], "UP", "HEALTHY", "1 healthy"),
        (["healthy", "unknown", "disabled"], "UP", "HEALTHY", "1 not checked recently"),
        (["unhealthy"], "DOWN", "UNHEALTHY", "rejected by the provider: 401 bad key"),
        (["degraded", "unknown"], "DOWN", "UNHEALTHY", "provider unreachable"),
        (["circuit_open"], "DOWN", "UNHEALTHY", "circuit breaker open"),
        (["healthy", "unhealthy"], "DEGRADED", "UNHEALTHY", "1 of 2 enabled credentials failing"),
    ],
)
def test_the_status_table(statuses: list[str], health: str, console: str, says: str) -> None:
    rows = [row(status, f"c{i}", "401 bad key") for i, status in enumerate(statuses)]
    found = provider_health(rows)
    assert found.status == health
    assert CONSOLE[found.status] == console
    assert says in found.message


def test_a_failing_provider_names_its_failing_credentials_and_why() -> None:
    rows = [row("unhealthy", f"key-{i}", "401 invalid api key") for i in range(5)]
    message = provider_health([row("healthy"), *rows]).message
    assert "key-0 (org-1/p1): rejected by the provider: 401 invalid api key" in message
    assert "and 2 more" in message


def test_a_credential_row_carries_what_an_operator_asks_and_no_secret() -> None:
    account = account_row(row("healthy"))
    assert account["label"] == "main (org-1/p1)"
    assert (account["organizationId"], account["projectId"]) == ("org-1", "p1")
    assert account["provider"] == "demo" and account["model"] == "m-1"
    assert account["upstream"] == "https://llm.example/v1"
    assert account["lastCheckAt"] == (NOW - timedelta(minutes=5)).isoformat()
    assert account["lastCheckOutcome"] == "valid" and account["lastCheckLatencyMs"] == 120
    assert account["lastRotationAt"] == (NOW - timedelta(days=1)).isoformat()
    assert account["lastRotatedBy"] == "subject:olga"
    assert account["healthy"] is True and account["operationStatus"] == "HEALTHY"
    text = json.dumps(account)
    assert "sealed" not in text and "abcd" not in text
    never = account_row(row("unknown"))
    assert never["operationStatus"] == "UNKNOWN" and never["operationMessage"] == "never checked"
    disabled = account_row(row("disabled"))
    assert disabled["enabled"] is False and "suspected leak" in disabled["operationMessage"]
    failing = account_row(row("unhealthy", message="401 bad key"))
    assert failing["lastError"] == "rejected by the provider: 401 bad key"


def test_a_report_keeps_the_rows_that_need_an_operator_first() -> None:
    rows = [row("healthy", f"h{i}") for i in range(4)] + [row("unhealthy", "bad"), row("unknown")]
    details = report_accounts(rows, limit=3)
    assert [a["operationStatus"] for a in details["accounts"]] == [
        "UNHEALTHY",
        "UNKNOWN",
        "HEALTHY",
    ]
    assert (details["accountsTotal"], details["accountsShown"]) == (6, 3)
    assert "listCredentials" in details["accountsMore"]


def test_list_credentials_takes_a_page_position_and_nothing_else() -> None:
    assert payload_violations("listCredentials", {"after": "", "first": 0}) == []
    assert payload_violations("listCredentials", {"after": str(uuid.uuid4()), "first": 51}) == []
    assert payload_violations("listCredentials", {"after": "x", "first": -1}) == [
        "after must be a credential id (a UUID)",
        "first must be a whole number from 0 to 10000000",
    ]
    assert payload_violations("listCredentials", {"apiKey": "sk-x"}) == ["apiKey is not accepted"]
