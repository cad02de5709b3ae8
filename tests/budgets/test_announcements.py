"""Soft and hard thresholds: announced once per budget and month, by one of several replicas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from integration_api.database import Database
from integration_api.store.usage_budgets import TOKENS
from integration_api.usage.budgets import Budgets
from tests.budgets.support import add_hourly, new_tenant, set_budget, this_hour


def _announced(threshold: str) -> float:
    value = REGISTRY.get_sample_value(
        "integration_api_usage_budget_thresholds_total", {"threshold": threshold}
    )
    return value or 0.0


async def _events(database: Database, budget_id: str) -> list[tuple[str, dict[str, object]]]:
    rows = await database.pool.fetch(
        "SELECT action, details FROM audit_events WHERE target_id = $1 ORDER BY id", budget_id
    )
    return [(row["action"], row["details"]) for row in rows]


async def _both(replicas: list[Budgets]) -> None:
    """Each replica refreshes and announces, at the same time."""

    async def one(replica: Budgets) -> None:
        await replica.refresh()
        await replica.announce()

    await asyncio.gather(*(one(replica) for replica in replicas))


async def test_each_threshold_is_announced_once_across_two_replicas(database: Database) -> None:
    tenant = new_tenant()
    budget = await set_budget(database, tenant, unit=TOKENS, soft=100, hard=200)
    replicas = [Budgets(database, refresh_seconds=60) for _ in range(2)]
    soft_before, hard_before = _announced("soft"), _announced("hard")

    await add_hourly(database, tenant, hour=this_hour(), tokens=150)
    for _ in range(3):
        await _both(replicas)
    month = datetime.now(UTC).strftime("%Y-%m")
    assert await _events(database, budget.id) == [
        ("budget.set", {}),
        (
            "budget.soft_limit_reached",
            {"spent": 150, "limit": 100, "unit": "tokens", "month": month, "credential_id": ""},
        ),
    ]
    assert (_announced("soft") - soft_before, _announced("hard") - hard_before) == (1, 0)

    await add_hourly(database, tenant, hour=this_hour(), tokens=60)
    for _ in range(3):
        await _both(replicas)
    actions = [action for action, _ in await _events(database, budget.id)]
    assert actions == ["budget.set", "budget.soft_limit_reached", "budget.hard_limit_reached"]
    assert (_announced("soft") - soft_before, _announced("hard") - hard_before) == (1, 1)
    assert [replica.summary()["hard"] >= 1 for replica in replicas] == [True, True]


async def test_a_changed_limit_is_announced_again(database: Database) -> None:
    tenant = new_tenant()
    budget = await set_budget(database, tenant, unit=TOKENS, soft=100)
    await add_hourly(database, tenant, hour=this_hour(), tokens=150)
    replica = Budgets(database, refresh_seconds=60)
    await _both([replica])
    await set_budget(database, tenant, unit=TOKENS, soft=120)
    await _both([replica])
    actions = [action for action, _ in await _events(database, budget.id)]
    assert actions.count("budget.soft_limit_reached") == 2


async def test_the_refresher_announces_what_a_write_crossed(database: Database) -> None:
    """The running guard: a crossing is announced by its refresher, off the request path."""
    tenant = new_tenant()
    budget = await set_budget(database, tenant, unit=TOKENS, hard=10)
    guard = Budgets(database, refresh_seconds=0.05)
    guard.start()
    try:
        await add_hourly(database, tenant, hour=this_hour(), tokens=10)
        for _ in range(100):
            if len(await _events(database, budget.id)) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await guard.stop()
    assert [action for action, _ in await _events(database, budget.id)] == [
        "budget.set",
        "budget.hard_limit_reached",
    ]
