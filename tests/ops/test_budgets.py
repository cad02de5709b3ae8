"""Budgets through OperationsService: set, list (with this month's spend), delete, and who may."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    AuditFilter,
    Budget,
    BudgetState,
    BudgetUnit,
    DeleteBudgetRequest,
    ListAuditEventsRequest,
    ListBudgetsRequest,
    SetBudgetRequest,
)

from integration_api.errors import ResourceExhausted
from integration_api.principal import Tenant
from integration_api.usage.budgets import month_of
from integration_api.usage.ports import BUDGET_EXCEEDED
from tests.credentials.helpers import error_info, field_violations
from tests.ops.support import Caller


def _organization() -> str:
    return "org-" + secrets.token_hex(3)


async def _refusal(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value


async def _spend(
    caller: Caller, organization: str, credential_id: str, cost_micros: str, tokens: int
) -> None:
    """What the ledger would have summed this hour for the tenant's credential."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    await caller.service.app.runtime.database.pool.execute(
        """
        INSERT INTO usage_hourly (hour, organization_id, project_id, credential_id, route_id,
            provider, model, operation, calls, input_tokens, output_tokens, cost_micros)
        VALUES ($1, $2, 'p1', $3, '', 'openai', 'gpt-4o-mini', 'chat', 1, $4, 0, $5::numeric)
        """,
        hour,
        organization,
        credential_id,
        tokens,
        cost_micros,
    )


async def test_an_operator_sets_replaces_lists_and_deletes_a_budget(caller: Caller) -> None:
    organization = _organization()
    budget = Budget(
        organization_id=organization, project_id="p1", unit=BudgetUnit.TOKENS, hard_limit=1000
    )
    first = await caller.operations.set_budget(
        SetBudgetRequest(budget=budget), metadata=caller.operator()
    )
    assert first.budget is not None
    assert first.budget.id
    assert (first.budget.hard_limit, first.budget.soft_limit, first.budget.spent) == (1000, 0, 0)
    assert first.budget.state == BudgetState.WITHIN
    assert first.budget.period_start == month_of(datetime.now(UTC))[0]
    assert first.budget.updated_by == "subject:olga"

    budget.soft_limit, budget.hard_limit = 500, 2000
    second = await caller.operations.set_budget(
        SetBudgetRequest(budget=budget), metadata=caller.operator()
    )
    assert second.budget is not None
    assert second.budget.id == first.budget.id, "one budget per tenant: replaced, not added"

    own = await caller.operations.list_budgets(
        ListBudgetsRequest(), metadata=caller.tenant(organization)
    )
    assert [(b.id, b.soft_limit, b.hard_limit) for b in own.budgets] == [
        (first.budget.id, 500, 2000)
    ]

    await caller.operations.delete_budget(
        DeleteBudgetRequest(budget_id=first.budget.id), metadata=caller.operator()
    )
    after = await caller.operations.list_budgets(
        ListBudgetsRequest(organization_id=organization, project_id="p1"),
        metadata=caller.operator(),
    )
    assert list(after.budgets) == []

    events = await caller.operations.list_audit_events(
        ListAuditEventsRequest(filter=AuditFilter(target_id=first.budget.id)),
        metadata=caller.tenant(organization),
    )
    audited = {event.action: event for event in events.events}
    assert set(audited) == {"budget.set", "budget.delete"}
    assert [e.actor for e in events.events] == ["subject:olga"] * 3
    sets = [e.details.to_dict() for e in events.events if e.action == "budget.set" and e.details]
    # Newest first: the replacement names what it replaced.
    assert sets[0]["old"] == {"unit": "tokens", "soft_limit": None, "hard_limit": 1000}
    assert sets[0]["new"] == {"unit": "tokens", "soft_limit": 500, "hard_limit": 2000}
    assert sets[1]["old"] is None


async def test_only_operators_set_and_delete(caller: Caller) -> None:
    organization = _organization()
    budget = Budget(
        organization_id=organization, project_id="p1", unit=BudgetUnit.TOKENS, hard_limit=10
    )
    refused = await _refusal(
        caller.operations.set_budget(
            SetBudgetRequest(budget=budget), metadata=caller.tenant(organization)
        )
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    stored = await caller.operations.set_budget(
        SetBudgetRequest(budget=budget), metadata=caller.operator()
    )
    assert stored.budget is not None
    refused = await _refusal(
        caller.operations.delete_budget(
            DeleteBudgetRequest(budget_id=stored.budget.id), metadata=caller.tenant(organization)
        )
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_tenant_lists_its_own_budgets_only(caller: Caller) -> None:
    mine, theirs = _organization(), _organization()
    for organization in (mine, theirs):
        await caller.operations.set_budget(
            SetBudgetRequest(
                budget=Budget(
                    organization_id=organization,
                    project_id="p1",
                    unit=BudgetUnit.MICRO_USD,
                    hard_limit=5_000_000,
                )
            ),
            metadata=caller.operator(),
        )
    own = await caller.operations.list_budgets(ListBudgetsRequest(), metadata=caller.tenant(mine))
    assert [b.organization_id for b in own.budgets] == [mine]
    refused = await _refusal(
        caller.operations.list_budgets(
            ListBudgetsRequest(organization_id=theirs, project_id="p1"),
            metadata=caller.tenant(mine),
        )
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    every = await caller.operations.list_budgets(ListBudgetsRequest(), metadata=caller.operator())
    assert {mine, theirs} <= {b.organization_id for b in every.budgets}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": BudgetUnit.UNSPECIFIED}, "budget.unit"),
        ({"soft_limit": -1}, "budget.soft_limit"),
        ({"hard_limit": -5}, "budget.hard_limit"),
        ({"soft_limit": 0, "hard_limit": 0}, "budget.hard_limit"),
        ({"soft_limit": 20, "hard_limit": 10}, "budget.soft_limit"),
        ({"organization_id": ""}, "budget.organization_id"),
        ({"project_id": ""}, "budget.project_id"),
        ({"credential_id": "not-an-id"}, "budget.credential_id"),
    ],
)
async def test_each_bad_field_is_named(
    caller: Caller, changes: dict[str, object], field: str
) -> None:
    budget = Budget(
        organization_id=_organization(), project_id="p1", unit=BudgetUnit.TOKENS, hard_limit=10
    )
    for name, value in changes.items():
        setattr(budget, name, value)
    refused = await _refusal(
        caller.operations.set_budget(SetBudgetRequest(budget=budget), metadata=caller.operator())
    )
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(refused)


async def test_a_credential_budget_names_a_credential_of_that_tenant(caller: Caller) -> None:
    organization = _organization()
    credential, _ = await caller.stored(_organization())
    for credential_id in (credential.id, str(uuid.uuid4())):
        refused = await _refusal(
            caller.operations.set_budget(
                SetBudgetRequest(
                    budget=Budget(
                        organization_id=organization,
                        project_id="p1",
                        credential_id=credential_id,
                        unit=BudgetUnit.TOKENS,
                        hard_limit=10,
                    )
                ),
                metadata=caller.operator(),
            )
        )
        assert refused.code() == grpc.StatusCode.NOT_FOUND
        assert error_info(refused).reason == "CREDENTIAL_NOT_FOUND"


async def test_an_unknown_budget_is_not_found(caller: Caller) -> None:
    for budget_id in (str(uuid.uuid4()), "nonsense"):
        refused = await _refusal(
            caller.operations.delete_budget(
                DeleteBudgetRequest(budget_id=budget_id), metadata=caller.operator()
            )
        )
        assert refused.code() == grpc.StatusCode.NOT_FOUND
        assert error_info(refused).reason == "BUDGET_NOT_FOUND"


async def test_listed_budgets_show_this_months_spend_and_state(caller: Caller) -> None:
    organization = _organization()
    credential, _ = await caller.stored(organization)
    for credential_id, unit, soft, hard in (
        ("", BudgetUnit.MICRO_USD, 1_000_000, 3_000_000),
        (credential.id, BudgetUnit.TOKENS, 100, 200),
    ):
        await caller.operations.set_budget(
            SetBudgetRequest(
                budget=Budget(
                    organization_id=organization,
                    project_id="p1",
                    credential_id=credential_id,
                    unit=unit,
                    soft_limit=soft,
                    hard_limit=hard,
                )
            ),
            metadata=caller.operator(),
        )
    await _spend(caller, organization, credential.id, "1500000.4", 250)
    listed = await caller.operations.list_budgets(
        ListBudgetsRequest(), metadata=caller.tenant(organization)
    )
    shown = {b.credential_id: (b.spent, b.state) for b in listed.budgets}
    assert shown == {
        "": (1_500_000, BudgetState.SOFT_EXCEEDED),
        credential.id: (250, BudgetState.HARD_EXCEEDED),
    }


async def test_the_services_guard_refuses_once_a_hard_budget_is_spent(caller: Caller) -> None:
    """The runtime's guard: set through the service, spend summed by the ledger, refused."""
    organization = _organization()
    credential, _ = await caller.stored(organization)
    guard = caller.service.app.runtime.budgets
    tenant = Tenant(organization, "p1")
    await caller.operations.set_budget(
        SetBudgetRequest(
            budget=Budget(
                organization_id=organization,
                project_id="p1",
                unit=BudgetUnit.MICRO_USD,
                hard_limit=2_000_000,
            )
        ),
        metadata=caller.operator(),
    )
    await _spend(caller, organization, credential.id, "2000000", 0)
    for _ in range(100):
        try:
            guard.admit(tenant, credential.id)
        except ResourceExhausted as refusal:
            assert refusal.reason == BUDGET_EXCEEDED
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the guard never refused")
    guard.admit(Tenant(_organization(), "p1"), credential.id)
