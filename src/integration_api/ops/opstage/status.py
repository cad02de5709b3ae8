"""A provider service's health as an operator reads it, from its credentials' effective statuses.

Opstage turns a reported health into the console's status: UP is HEALTHY, DEGRADED and DOWN are
UNHEALTHY, UNKNOWN is UNKNOWN. So the table below keeps UNHEALTHY for credentials that fail
their check (with the reason), and UNKNOWN for what nobody has looked at yet:

| credentials of the provider                 | reported health | console   |
| ------------------------------------------- | --------------- | --------- |
| none left                                   | UNKNOWN         | UNKNOWN   |
| every one disabled                          | DOWN            | UNHEALTHY |
| some failing, none healthy                  | DOWN            | UNHEALTHY |
| some failing, some healthy                  | DEGRADED        | UNHEALTHY |
| none failing, none healthy (never checked,  | UNKNOWN         | UNKNOWN   |
|   or the last check is stale)               |                 |           |
| none failing, at least one healthy          | UP              | HEALTHY   |

Failing: rejected by the provider (`unhealthy`), provider unreachable (`degraded`), or circuit
breaker open. Disabled credentials are left out of every row but the second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from integration_api.ops.breakers import CIRCUIT_OPEN_STATUS
from integration_api.store.inventory import InventoryRow

FAILING = ("unhealthy", "degraded", CIRCUIT_OPEN_STATUS)
UNCHECKED = ("unknown", "stale")
NO_CREDENTIALS = "no credentials"
# The health message names at most this many failing credentials, each reason cut to this length.
REASONS_SHOWN = 3
REASON_CHARACTERS = 160


@dataclass(frozen=True)
class ProviderHealth:
    status: str
    message: str
    counts: dict[str, int]

    @property
    def failing(self) -> bool:
        """Some enabled credential fails its check (disabling every one is not a failure)."""
        return any(self.counts.get(status, 0) for status in FAILING)

    def report(self, details: dict[str, Any]) -> dict[str, Any]:
        health: dict[str, Any] = {"status": self.status, "details": details}
        if self.message:
            health["message"] = self.message
        return health


def failure_reason(row: InventoryRow) -> str:
    """Why one credential counts as failing, for the health message and its row."""
    credential = row.credential
    if row.effective_status == CIRCUIT_OPEN_STATUS:
        why = "circuit breaker open after repeated failures"
    elif row.effective_status == "degraded":
        why = "provider unreachable"
    else:
        why = "rejected by the provider"
    if credential.last_check_message:
        why = f"{why}: {credential.last_check_message}"
    return why[:REASON_CHARACTERS]


def _named(row: InventoryRow) -> str:
    credential = row.credential
    return f"{credential.name} ({credential.organization_id}/{credential.project_id})"


def provider_health(rows: Sequence[InventoryRow]) -> ProviderHealth:
    counts = Counter(row.effective_status for row in rows)
    total = len(rows)
    if total == 0:
        return ProviderHealth("UNKNOWN", NO_CREDENTIALS, {})
    disabled = counts.get("disabled", 0)
    if disabled == total:
        return ProviderHealth("DOWN", f"every credential is disabled ({total})", dict(counts))
    enabled = total - disabled
    healthy = counts.get("healthy", 0)
    failing = [row for row in rows if row.effective_status in FAILING]
    if failing:
        reasons = "; ".join(
            f"{_named(row)}: {failure_reason(row)}" for row in failing[:REASONS_SHOWN]
        )
        more = f"; and {len(failing) - REASONS_SHOWN} more" if len(failing) > REASONS_SHOWN else ""
        status = "DEGRADED" if healthy else "DOWN"
        message = f"{len(failing)} of {enabled} enabled credentials failing: {reasons}{more}"
        return ProviderHealth(status, message, dict(counts))
    unchecked = sum(counts.get(status, 0) for status in UNCHECKED)
    if not healthy:
        return ProviderHealth(
            "UNKNOWN", f"not checked yet, or the last check is stale ({unchecked})", dict(counts)
        )
    notes = [f"{healthy} healthy"]
    if unchecked:
        notes.append(f"{unchecked} not checked recently")
    if disabled:
        notes.append(f"{disabled} disabled")
    return ProviderHealth("UP", ", ".join(notes), dict(counts))
