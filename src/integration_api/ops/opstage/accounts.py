"""One row per credential, in the shape Opstage's console renders as a service's account table.

The console reads `health.details.accounts` of a service's latest health report (each row's
`label`, `healthy`, `operationStatus`, `operationMessage` or `lastError`) and shows the rest of
the report as JSON; a command result's `data.list` (rows, columns, row and page actions) is shown
as a table with buttons. A row carries the credential's tenant, name, provider, pinned model,
upstream, last check (when, outcome, latency) and last rotation (when, by whom), never a secret
or its hint. No key of a row looks like a secret's name: the backend blanks those before storing.

Every report repeats the rows, so a service carries at most `ACCOUNTS_IN_REPORT` of them, the
ones that need an operator first (failing, then unchecked, then disabled, then healthy); the
`listCredentials` action pages through all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integration_api.credentials.model import CredentialConfig
from integration_api.errors import InvalidArgument
from integration_api.ops.breakers import CIRCUIT_OPEN_STATUS
from integration_api.ops.opstage.status import FAILING, failure_reason
from integration_api.providers.endpoints import default_base_url
from integration_api.store.inventory import InventoryRow

ACCOUNTS_IN_REPORT = 25
LIST_PAGE_SIZE = 50

OPERATION_STATUS = {
    "healthy": "HEALTHY",
    "unhealthy": "UNHEALTHY",
    "degraded": "UNREACHABLE",
    CIRCUIT_OPEN_STATUS: "CIRCUIT_OPEN",
    "unknown": "UNKNOWN",
    "stale": "STALE",
    "disabled": "DISABLED",
}
# Which rows a report keeps when it cannot keep them all.
_URGENCY = {
    **dict.fromkeys(FAILING, 0),
    "unknown": 1,
    "stale": 1,
    "disabled": 2,
    "healthy": 3,
}


def upstream_of(provider: str, config: CredentialConfig) -> str:
    if config.base_url:
        return config.base_url
    try:
        return default_base_url(provider, config) or ""
    except InvalidArgument:
        return ""


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def account_row(row: InventoryRow) -> dict[str, Any]:
    credential = row.credential
    config = CredentialConfig.from_json(credential.config)
    status = row.effective_status
    check = credential.last_check
    if status == "disabled":
        message = (
            f"disabled: {credential.status_reason}" if credential.status_reason else "disabled"
        )
    elif check is None:
        message = "never checked"
    elif status in FAILING:
        message = failure_reason(row)
    else:
        latency = f" in {check.latency_ms} ms" if check.latency_ms is not None else ""
        stale = " (stale)" if status == "stale" else ""
        message = f"{check.outcome}{latency} at {check.checked_at.isoformat()}{stale}"
    account: dict[str, Any] = {
        "id": credential.id,
        "label": f"{credential.name} ({credential.organization_id}/{credential.project_id})",
        "enabled": status != "disabled",
        "healthy": status == "healthy",
        "operationStatus": OPERATION_STATUS.get(status, status.upper()),
        "operationName": "healthCheck",
        "operationMessage": message,
        "name": credential.name,
        "organizationId": credential.organization_id,
        "projectId": credential.project_id,
        "provider": credential.provider,
        "model": config.default_model,
        "upstream": upstream_of(credential.provider, config),
        "lastCheckAt": _iso(check.checked_at) if check else None,
        "lastCheckOutcome": check.outcome if check else None,
        "lastCheckLatencyMs": check.latency_ms if check else None,
        "lastRotationAt": _iso(credential.rotated_at),
        "lastRotatedBy": credential.rotated_by or None,
    }
    if status in FAILING:
        account["lastError"] = message
    return account


def report_accounts(
    rows: Sequence[InventoryRow], limit: int = ACCOUNTS_IN_REPORT
) -> dict[str, Any]:
    """The `health.details` rows of one provider service: the most urgent `limit` rows."""
    ordered = sorted(
        rows,
        key=lambda row: (
            _URGENCY.get(row.effective_status, 1),
            row.credential.organization_id,
            row.credential.project_id,
            row.credential.name,
            row.credential.id,
        ),
    )
    shown = ordered[:limit]
    details: dict[str, Any] = {
        "accounts": [account_row(row) for row in shown],
        "accountsTotal": len(rows),
        "accountsShown": len(shown),
    }
    if len(shown) < len(rows):
        details["accountsMore"] = "run listCredentials for every row, a page at a time"
    return details


LIST_COLUMNS = [
    {"key": "label", "label": "Credential"},
    {"key": "operationStatus", "label": "Status", "format": "status"},
    {"key": "operationMessage", "label": "Last check", "ellipsis": True},
    {"key": "model", "label": "Model"},
    {"key": "upstream", "label": "Upstream", "ellipsis": True},
    {"key": "lastCheckAt", "label": "Checked at", "format": "relativeTime"},
    {"key": "lastRotationAt", "label": "Rotated at", "format": "relativeTime"},
    {"key": "lastRotatedBy", "label": "Rotated by"},
    {"key": "id", "label": "Id", "format": "code", "copyable": True},
]


def list_result(
    provider: str,
    rows: Sequence[InventoryRow],
    total: int,
    first: int,
    has_more: bool,
    page_size: int = LIST_PAGE_SIZE,
) -> dict[str, Any]:
    """A `listCredentials` result: one page as a console table, its next page as a button."""
    data = [account_row(row) for row in rows]
    last = first + len(data) - 1
    span = f"{first} to {last}" if data else "none"
    result: dict[str, Any] = {
        "title": f"{provider} credentials {span} of {total}",
        "data": data,
        "columns": LIST_COLUMNS,
        "rowActions": [
            {"label": "Check", "action": "runHealthCheck", "payload": {"credentialId": "$row.id"}},
            {
                "label": "Disable",
                "action": "disableCredential",
                "payload": {"credentialId": "$row.id"},
                "danger": True,
                "confirm": True,
            },
        ],
        "pageSize": page_size,
        "emptyText": "No credentials",
    }
    if has_more and data:
        result["pageActions"] = [
            {
                "label": "Next page",
                "action": "listCredentials",
                "payload": {"after": data[-1]["id"], "first": last + 1},
            }
        ]
    return result
