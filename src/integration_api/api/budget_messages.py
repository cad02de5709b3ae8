"""Converters between the contract's budget messages and the domain's types."""

from __future__ import annotations

from integration_api_proto.integration.v1 import Budget as BudgetMessage
from integration_api_proto.integration.v1 import BudgetState, BudgetUnit

from integration_api.ops.budgets import BudgetSpec, BudgetView
from integration_api.store.usage_budgets import HARD, MICRO_USD, SOFT, TOKENS

UNIT_TO_MESSAGE = {MICRO_USD: BudgetUnit.MICRO_USD, TOKENS: BudgetUnit.TOKENS}
UNIT_FROM_MESSAGE = {value: key for key, value in UNIT_TO_MESSAGE.items()}
STATE_TO_MESSAGE = {
    "": BudgetState.WITHIN,
    SOFT: BudgetState.SOFT_EXCEEDED,
    HARD: BudgetState.HARD_EXCEEDED,
}


def spec_from_message(budget: BudgetMessage | None) -> BudgetSpec:
    budget = budget or BudgetMessage()
    return BudgetSpec(
        organization_id=budget.organization_id,
        project_id=budget.project_id,
        credential_id=budget.credential_id,
        # Unspecified or unknown: "", which validation names as the field to fix.
        unit=UNIT_FROM_MESSAGE.get(budget.unit, ""),
        soft_limit=budget.soft_limit,
        hard_limit=budget.hard_limit,
    )


def budget_message(view: BudgetView) -> BudgetMessage:
    budget = view.budget
    return BudgetMessage(
        id=budget.id,
        organization_id=budget.tenant.organization_id,
        project_id=budget.tenant.project_id,
        credential_id=budget.credential_id,
        unit=UNIT_TO_MESSAGE[budget.unit],
        soft_limit=budget.soft_limit or 0,
        hard_limit=budget.hard_limit or 0,
        spent=view.spent,
        period_start=view.period_start,
        state=STATE_TO_MESSAGE[view.state],
        updated_by=budget.updated_by,
        updated_at=budget.updated_at,
    )
