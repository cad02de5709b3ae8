"""What the pipelines need of the ledger: somewhere to put a record, and a budget's verdict.

Both are called on the request path, so both answer from memory: `record` only queues (the
ledger writes in batches off the path) and `admit` reads the budgets' last known state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from integration_api.principal import Tenant
from integration_api.usage.record import UsageRecord

BUDGET_EXCEEDED = "BUDGET_EXCEEDED"


class UsageLedger(Protocol):
    def record(self, record: UsageRecord) -> None:
        """Queues one record; never blocks, never raises (a loss is counted and logged)."""


class BudgetGuard(Protocol):
    def admit(self, tenant: Tenant, credential_id: str) -> None:
        """Raises ResourceExhausted (reason BUDGET_EXCEEDED) when a hard budget of the tenant or
        of the credential is spent this month; returns at once otherwise."""


class NoLedger:
    """Records nothing (pipelines built without a ledger, in tests of other concerns)."""

    def record(self, record: UsageRecord) -> None:
        return None


class NoBudgets:
    def admit(self, tenant: Tenant, credential_id: str) -> None:
        return None


NO_LEDGER = NoLedger()
NO_BUDGETS = NoBudgets()


@dataclass(frozen=True, slots=True)
class Cost:
    """What one record cost, computed once with the price in force at its start."""

    # Micro-dollars, exact (rounded only where sums are reported).
    micros: Decimal
    # The price row applied (usage_prices.id) and its version; None when none was in force.
    price_id: int | None = None
    price_version: int | None = None
    # Something billable was used while no price was in force.
    unpriced: bool = False


FREE = Cost(micros=Decimal(0))
# Something billable was used and no price was in force (found and priced later).
UNPRICED = Cost(micros=Decimal(0), unpriced=True)


class Pricer(Protocol):
    def cost(self, record: UsageRecord) -> Cost:
        """From memory: the price table is loaded and refreshed off the request path."""


# Told of every batch once it is durable (budgets count spend from it without waiting for
# their next refresh).
WrittenListener = Callable[[Sequence[tuple[UsageRecord, Cost]]], None]
