"""Prometheus counters of routed calls: every attempt, and every move to a next target.

The `route` label is the route's id, which tenants create at will, so it is bounded like the
model label (`bounded_labels`): each tenant brings at most 32 routes of its own and all tenants
at most 512 per worker; past that a route counts as `other`. `target` is the target's position
in its route (0 to 7), `operation` one of chat, embed, rerank, transcribe, synthesize,
synthesize_stream, and `outcome` one of the `AttemptOutcome` values: every label is bounded.
"""

from __future__ import annotations

from prometheus_client import Counter

from integration_api.observability.bounded_labels import BoundedLabel
from integration_api.principal import Tenant

ROUTE_LABELS = BoundedLabel(per_tenant=32, max_values=512)
_SCOPE = "routes"

ATTEMPTS = Counter(
    "integration_api_route_attempts_total",
    "Targets tried by calls through a route, by how each attempt ended.",
    ["route", "target", "operation", "outcome"],
)
FAILOVERS = Counter(
    "integration_api_route_failovers_total",
    "Calls through a route that moved on from this target to the next one.",
    ["route", "target", "operation"],
)


def route_label(tenant: Tenant, route_id: str) -> str:
    return ROUTE_LABELS.value(tenant, _SCOPE, route_id)


def count_attempt(route: str, target: int, operation: str, outcome: str) -> None:
    ATTEMPTS.labels(route, str(target), operation, outcome).inc()


def count_failover(route: str, target: int, operation: str) -> None:
    FAILOVERS.labels(route, str(target), operation).inc()
