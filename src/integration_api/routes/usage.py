"""What a route tells the usage ledger and the budgets: which attempt a call is, and whether the
tenant may call at all.

Each attempt of a route is its own provider call, recorded by the pipeline that makes it; the
route only says, through `ROUTE_ATTEMPT`, which route and target it runs for. The variable is set
for exactly the steps of one attempt that start the pipeline's call and reset after them, so it
never reaches another call (nor the caller's code between two steps of a stream).

A tenant whose budget is spent is refused once, before any target: moving on could not help.
A credential whose own budget is spent is refused by the pipeline, and the route moves on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from integration_api.principal import Tenant
from integration_api.usage.ports import BudgetGuard
from integration_api.usage.record import ROUTE_ATTEMPT, RouteAttribution

# What `admit` is asked for the tenant alone: no credential's budget applies to it.
TENANT_ONLY = ""


@contextmanager
def attempt_of(route_id: str, target: int) -> Iterator[None]:
    """The steps run inside are those of target `target`'s attempt."""
    token = ROUTE_ATTEMPT.set(RouteAttribution(route_id, target))
    try:
        yield
    finally:
        ROUTE_ATTEMPT.reset(token)


def tenant_admitted(budgets: BudgetGuard, tenant: Tenant) -> None:
    """Raises the budget's refusal (RESOURCE_EXHAUSTED, BUDGET_EXCEEDED) when the tenant's own
    hard budget is spent, before a route tries any of its targets."""
    budgets.admit(tenant, TENANT_ONLY)
