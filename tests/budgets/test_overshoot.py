"""The overshoot bound under concurrency (README, "Budgets"): two replicas of the guard on one
database, each running K concurrent calls of a known cost and a ledger-like writer that sums its
finished calls into usage_hourly every F seconds and then tells its guard.

A call is counted when its record is written, so the spend passes a hard limit by at most what
was admitted and not yet counted when each replica learnt of the crossing: every call admitted in
the last D + F seconds before the crossing was written (D the call's duration), plus, on the other
replicas, what they admit until their next refresh (R). With K calls at once per replica, each
lasting at least d, a replica admits at most K * (ceil((D + F + R) / d) + 1) calls in that window.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from integration_api.database import Database
from integration_api.errors import ResourceExhausted
from integration_api.principal import Tenant
from integration_api.store.usage_budgets import MICRO_USD
from integration_api.usage.budgets import Budgets
from integration_api.usage.ports import Cost
from integration_api.usage.record import UsageRecord
from tests.budgets.support import new_tenant, record, set_budget, write_batch

CALL_COST = 1_000  # micro-dollars
LIMIT = 100 * CALL_COST
CALLS_AT_ONCE = 8  # K, per replica
CALL_SECONDS = 0.02  # D = d
FLUSH_SECONDS = 0.05  # F
REFRESH_SECONDS = 0.1  # R


class TimedBudgets(Budgets):
    """The guard, noting when each refresh is done (the R the bound holds to, as it ran)."""

    refreshed_at: list[float]
    refreshes: asyncio.Condition

    async def refresh(self) -> None:
        await super().refresh()
        self.refreshed_at.append(time.monotonic())
        async with self.refreshes:
            self.refreshes.notify_all()

    async def wait_refreshes(self, count: int) -> None:
        seen = len(self.refreshed_at)
        async with self.refreshes:
            await self.refreshes.wait_for(lambda: len(self.refreshed_at) >= seen + count)


@dataclass
class Replica:
    guard: TimedBudgets
    # Finished calls and when they finished, until the writer writes them.
    waiting: list[tuple[UsageRecord, Cost, float]] = field(default_factory=list)
    # The longest a finished call waited to be written and told (the F it ran with).
    longest_wait: float = 0.0
    admitted: list[float] = field(default_factory=list)
    # When this replica's own write made its known spend reach the limit.
    crossed_at: float | None = None


async def _call(replica: Replica, tenant: Tenant, credential: str) -> None:
    """One caller: calls until refused for good, each counted once its record is written."""
    while True:
        try:
            replica.guard.admit(tenant, credential)
        except ResourceExhausted:
            # A batch told while a refresh read may count twice until the next refresh: a
            # refusal that outlives two refreshes is the budget's.
            await replica.guard.wait_refreshes(2)
            try:
                replica.guard.admit(tenant, credential)
            except ResourceExhausted:
                return
        replica.admitted.append(time.monotonic())
        await asyncio.sleep(CALL_SECONDS)
        usage = record(tenant, credential_id=credential)
        replica.waiting.append((usage, Cost(Decimal(CALL_COST)), time.monotonic()))


async def _flush(database: Database, replica: Replica, scope: tuple[str, str, str]) -> None:
    waiting, replica.waiting = replica.waiting, []
    if not waiting:
        return
    batch = [(usage, cost) for usage, cost, _ in waiting]
    await write_batch(database, batch)
    replica.guard.written(batch)
    told = time.monotonic()
    replica.longest_wait = max(replica.longest_wait, told - min(at for *_, at in waiting))
    if replica.crossed_at is None and replica.guard.spent(scope) >= LIMIT:
        replica.crossed_at = time.monotonic()


async def _writer(database: Database, replica: Replica, scope: tuple[str, str, str]) -> None:
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        await _flush(database, replica, scope)


async def test_the_spend_past_a_hard_limit_stays_within_the_stated_bound(
    database: Database,
) -> None:
    tenant = new_tenant()
    credential = str(uuid.uuid4())
    await set_budget(database, tenant, unit=MICRO_USD, hard=LIMIT, credential_id=credential)
    scope = (tenant.organization_id, tenant.project_id, credential)
    replicas = [Replica(TimedBudgets(database, REFRESH_SECONDS)) for _ in range(2)]
    for replica in replicas:
        replica.guard.refreshed_at = []
        replica.guard.refreshes = asyncio.Condition()
        await replica.guard.refresh()
        replica.guard.start()
    writers = [asyncio.create_task(_writer(database, replica, scope)) for replica in replicas]
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    _call(replica, tenant, credential)
                    for replica in replicas
                    for _ in range(CALLS_AT_ONCE)
                )
            ),
            timeout=30,
        )
    finally:
        for writer in writers:
            writer.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
        for replica in replicas:
            await replica.guard.stop()
    for replica in replicas:
        await _flush(database, replica, scope)

    spent = await database.pool.fetchval(
        "SELECT sum(cost_micros) FROM usage_hourly WHERE organization_id = $1",
        tenant.organization_id,
    )
    overshoot_calls = (int(spent) - LIMIT) // CALL_COST
    # The bound with F and R as they ran (a loaded machine stretches both).
    flush = max(replica.longest_wait for replica in replicas)
    refresh = max(
        later - earlier
        for replica in replicas
        for earlier, later in zip(
            replica.guard.refreshed_at, replica.guard.refreshed_at[1:], strict=False
        )
    )
    window = CALL_SECONDS + flush + refresh
    bound_calls = len(replicas) * CALLS_AT_ONCE * (math.ceil(window / CALL_SECONDS) + 1)
    print(
        f"hard limit {LIMIT // CALL_COST} calls; spent {int(spent) // CALL_COST} calls; "
        f"overshoot {overshoot_calls} calls; bound {bound_calls} calls "
        f"(F {flush * 1000:.0f} ms, R {refresh * 1000:.0f} ms)"
    )
    assert spent >= LIMIT, "the calls ran until the limit was reached"
    assert overshoot_calls <= bound_calls
    # The replica whose write crossed the limit admitted nothing after it.
    for replica in replicas:
        if replica.crossed_at is not None:
            assert [at for at in replica.admitted if at > replica.crossed_at] == []
    assert any(replica.crossed_at is not None for replica in replicas)
