"""Prometheus metrics of budgets (no tenant label: tenants are unbounded)."""

from __future__ import annotations

from prometheus_client import Counter

BUDGET_THRESHOLDS = Counter(
    "integration_api_usage_budget_thresholds",
    "Budget thresholds reached (soft, hard), each announced once per budget and month by one "
    "replica of the fleet.",
    ["threshold"],
)
BUDGET_REFUSALS = Counter(
    "integration_api_usage_budget_refusals",
    "Calls refused because a hard budget is spent, by the budget's scope (tenant, credential).",
    ["scope"],
)
