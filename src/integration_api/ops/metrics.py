"""Prometheus metrics of operations: credential health and the Opstage agent."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CREDENTIAL_HEALTH = Gauge(
    "integration_api_credential_health",
    "Credentials by provider and effective status (healthy, degraded, unhealthy, disabled, "
    "unknown, stale), as of the last background check round.",
    ["provider", "outcome"],
    # With several workers only the leading one publishes: its latest round is the answer.
    multiprocess_mode="mostrecent",
)
CREDENTIAL_CHECKS = Counter(
    "integration_api_credential_health_checks",
    "Credential checks made (background and on demand), by provider and outcome.",
    ["provider", "outcome"],
)
OPSTAGE_AGENT_STATE = Gauge(
    "integration_api_opstage_agent_state",
    "1 for the embedded Opstage agent's current state (off, standby, registering, online, "
    "backend_unreachable, disabled, revoked), 0 for the others.",
    ["state"],
    multiprocess_mode="livemostrecent",
)
OPSTAGE_CALLS = Counter(
    "integration_api_opstage_calls",
    "Calls to the Opstage backend, by endpoint and outcome (ok, or the error code).",
    ["endpoint", "outcome"],
)

AGENT_STATES = (
    "off",
    "standby",
    "registering",
    "online",
    "backend_unreachable",
    "disabled",
    "revoked",
)


def set_agent_state(state: str) -> None:
    for known in AGENT_STATES:
        OPSTAGE_AGENT_STATE.labels(known).set(1 if known == state else 0)


def publish_health_counts(counts: dict[tuple[str, str], int]) -> None:
    """Replaces every (provider, outcome) series with the counts of this round."""
    CREDENTIAL_HEALTH.clear()
    for (provider, outcome), count in counts.items():
        CREDENTIAL_HEALTH.labels(provider, outcome).set(count)
