"""Setting, listing and deleting budgets (OperationsService SetBudget, ListBudgets, DeleteBudget).

Operators set and delete budgets (each audited with what it was and became); a tenant caller
lists its own, an operator any tenant's, each with this month's spend and state read from the
database (the hourly sums every replica shares).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from integration_api.call_context import current_request_id
from integration_api.database import Database
from integration_api.errors import FieldViolation, InvalidArgument
from integration_api.ops.access import require_operator, visible_tenant
from integration_api.principal import Principal, Tenant
from integration_api.store.credential_rows import parse_credential_id
from integration_api.store.models import AuditEvent, JsonValue
from integration_api.store.usage_budgets import (
    BUDGET_UNITS,
    BudgetRepository,
    BudgetRow,
)
from integration_api.usage.budgets import month_of, state_of


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    """A budget as an operator asks for it; limits of 0 are unset."""

    organization_id: str
    project_id: str
    credential_id: str
    # "micro_usd", "tokens", or "" (not given).
    unit: str
    soft_limit: int
    hard_limit: int


@dataclass(frozen=True, slots=True)
class BudgetView:
    budget: BudgetRow
    # In the budget's unit, rounded once.
    spent: int
    period_start: datetime
    # "", "soft" or "hard".
    state: str


def _violations(spec: BudgetSpec) -> list[FieldViolation]:
    found = []
    if not spec.organization_id:
        found.append(FieldViolation("budget.organization_id", "is required"))
    if not spec.project_id:
        found.append(FieldViolation("budget.project_id", "is required"))
    if spec.credential_id and parse_credential_id(spec.credential_id) is None:
        found.append(FieldViolation("budget.credential_id", "must be a credential id (a UUID)"))
    if spec.unit not in BUDGET_UNITS:
        found.append(FieldViolation("budget.unit", "BUDGET_UNIT_MICRO_USD or BUDGET_UNIT_TOKENS"))
    if spec.soft_limit < 0:
        found.append(FieldViolation("budget.soft_limit", "must be 0 (none) or more"))
    if spec.hard_limit < 0:
        found.append(FieldViolation("budget.hard_limit", "must be 0 (none) or more"))
    if spec.soft_limit == 0 and spec.hard_limit == 0:
        found.append(FieldViolation("budget.hard_limit", "set soft_limit, hard_limit or both"))
    if spec.soft_limit > 0 and spec.hard_limit > 0 and spec.soft_limit > spec.hard_limit:
        found.append(FieldViolation("budget.soft_limit", "must not exceed hard_limit"))
    return found


def _shown(budget: BudgetRow | None) -> JsonValue:
    if budget is None:
        return None
    return {
        "unit": budget.unit,
        "soft_limit": budget.soft_limit,
        "hard_limit": budget.hard_limit,
    }


class BudgetOperations:
    def __init__(
        self,
        database: Database,
        changed: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        # This process's guard reloads before the change is answered, so the operator's own
        # replica enforces it at once (other replicas within a refresh).
        self._changed = changed
        self._clock = clock

    def _repository(self) -> BudgetRepository:
        return BudgetRepository(self._database.pool)

    async def set(self, principal: Principal, spec: BudgetSpec) -> BudgetView:
        require_operator(principal, "SetBudget")
        violations = _violations(spec)
        if violations:
            raise InvalidArgument(f"{violations[0].field}: {violations[0].description}", violations)
        tenant = Tenant(spec.organization_id, spec.project_id)

        def audit(old: BudgetRow | None, new: BudgetRow) -> AuditEvent:
            return AuditEvent(
                actor=principal.actor,
                tenant=tenant,
                action="budget.set",
                target_type="budget",
                target_id=new.id,
                request_id=current_request_id(),
                details={
                    "credential_id": new.credential_id,
                    "old": _shown(old),
                    "new": _shown(new),
                },
            )

        row = await self._repository().upsert(
            tenant,
            spec.credential_id,
            spec.unit,
            spec.soft_limit or None,
            spec.hard_limit or None,
            principal.actor,
            audit,
        )
        if self._changed is not None:
            await self._changed()
        views = await self.list(principal, tenant.organization_id, tenant.project_id)
        found = next((view for view in views if view.budget.id == row.id), None)
        # None only when it was deleted meanwhile: it is shown as set.
        start, _ = month_of(datetime.fromtimestamp(self._clock(), UTC))
        return found or BudgetView(budget=row, spent=0, period_start=start, state="")

    async def list(
        self, principal: Principal, organization_id: str, project_id: str
    ) -> list[BudgetView]:
        tenant = visible_tenant(principal, organization_id, project_id)
        start, end = month_of(datetime.fromtimestamp(self._clock(), UTC))
        rows = await self._repository().with_spend(start, end, tenant)
        return [
            BudgetView(
                budget=row.budget,
                spent=int(row.spent.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)),
                period_start=start,
                state=state_of(row.budget, row.spent),
            )
            for row in rows
        ]

    async def delete(self, principal: Principal, budget_id: str) -> None:
        require_operator(principal, "DeleteBudget")

        def audit(row: BudgetRow) -> AuditEvent:
            return AuditEvent(
                actor=principal.actor,
                tenant=row.tenant,
                action="budget.delete",
                target_type="budget",
                target_id=row.id,
                request_id=current_request_id(),
                details={"credential_id": row.credential_id, "old": _shown(row)},
            )

        await self._repository().delete(budget_id, audit)
        if self._changed is not None:
            await self._changed()
