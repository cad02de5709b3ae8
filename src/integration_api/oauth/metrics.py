"""What token refreshes did, for Prometheus (never a token, only provider and outcome)."""

from __future__ import annotations

from prometheus_client import Counter

REFRESHES = Counter(
    "integration_api_oauth_refreshes_total",
    "OAuth token refreshes by provider, trigger (on_demand, keepalive) and outcome "
    "(refreshed, reauthorization_required, failed).",
    ["provider", "trigger", "outcome"],
)


def count_refresh(provider: str, trigger: str, outcome: str) -> None:
    REFRESHES.labels(provider, trigger, outcome).inc()
