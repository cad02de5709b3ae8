"""The budget guard: every budget and its month's spend, in memory, so `admit` is a dict lookup.

What each budget's scope spent this UTC month is what the database said at the last refresh
(one query for every budget over `usage_hourly`, every `budget_refresh_seconds`) plus what this
process's ledger wrote since (it calls `written` once a batch is durable). So the process whose
batch crossed a hard limit refuses its next call at once; every other replica within one
refresh. Batches told during a refresh may be counted twice until the next one: the guard errs
on the side of refusing, never of admitting.

A call is counted when its record is written, not when it is admitted: calls already running
when a limit is crossed finish and are counted (the overshoot bound in the README).

Each threshold is announced once per budget and month across replicas: the replica whose
conditional UPDATE claims the month (`soft_announced_month` / `hard_announced_month`) writes
the audit event in the same transaction and counts the metric. The database being unreachable
leaves the last known state in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import structlog

from integration_api.background import BackgroundTask
from integration_api.database import Database
from integration_api.errors import ResourceExhausted
from integration_api.principal import Tenant
from integration_api.store.models import AuditEvent
from integration_api.store.usage_budgets import (
    HARD,
    MICRO_USD,
    SOFT,
    BudgetRepository,
    BudgetRow,
    BudgetSpend,
)
from integration_api.usage.budget_metrics import BUDGET_REFUSALS, BUDGET_THRESHOLDS
from integration_api.usage.ports import BUDGET_EXCEEDED, Cost
from integration_api.usage.record import UsageRecord

log = structlog.get_logger("integration_api.usage.budgets")

ANNOUNCER = "service:integration-api"
# (organization, project, credential): "" credential is the tenant's whole spend.
Scope = tuple[str, str, str]


def month_of(instant: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar month holding `instant`: [first day 00:00, next month's first day)."""
    start = instant.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


@dataclass(slots=True)
class Spend:
    cost_micros: Decimal = Decimal(0)
    tokens: int = 0

    def add(self, record: UsageRecord, cost: Cost) -> None:
        self.cost_micros += cost.micros
        self.tokens += record.tokens

    def in_unit(self, unit: str) -> Decimal:
        return self.cost_micros if unit == MICRO_USD else Decimal(self.tokens)


@dataclass(slots=True)
class _Tracked:
    budget: BudgetRow
    # From the last refresh.
    stored: Decimal
    # Thresholds this process knows to be announced this month (by any replica).
    announced: set[str] = field(default_factory=set)


def state_of(budget: BudgetRow, spent: Decimal) -> str:
    """ "hard", "soft" or "" (within): a threshold is reached when the spend is at or past it."""
    if budget.hard_limit is not None and spent >= budget.hard_limit:
        return HARD
    if budget.soft_limit is not None and spent >= budget.soft_limit:
        return SOFT
    return ""


def reached(budget: BudgetRow, spent: Decimal) -> list[str]:
    return [
        threshold
        for threshold in (SOFT, HARD)
        if (limit := budget.limit(threshold)) is not None and spent >= limit
    ]


class Budgets:
    """The `BudgetGuard` of a process; `written` is its ledger's `WrittenListener`."""

    def __init__(
        self,
        database: Database,
        refresh_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._database = database
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._month_start, self._month_end = month_of(datetime.fromtimestamp(clock(), UTC))
        self._month_end_ts = self._month_end.timestamp()
        self._tracked: dict[Scope, _Tracked] = {}
        # What this process's ledger wrote this month and told after the last refresh began
        # (`_recent`), and, while a refresh reads, what it told before that one began
        # (`_earlier`): durable before the query, so in its result, and dropped when it arrives.
        self._earlier: dict[Scope, Spend] = {}
        self._recent: dict[Scope, Spend] = {}
        # Scopes whose hard limit is reached: what `admit` reads.
        self._refused: set[Scope] = set()
        self._wake = asyncio.Event()
        self._refreshing = asyncio.Lock()
        self._task = BackgroundTask(self._run, "budget-refresher")
        self._database_down = False
        self.refreshed = False

    def _repository(self) -> BudgetRepository:
        # The pool exists once the database was reached (Unavailable before: a failed refresh).
        return BudgetRepository(self._database.pool)

    # --- The request path -------------------------------------------------------------------

    def admit(self, tenant: Tenant, credential_id: str) -> None:
        if not self._refused or self._clock() >= self._month_end_ts:
            # No hard limit reached, or a new month began since the last refresh: its spend is 0.
            return
        organization, project = tenant.organization_id, tenant.project_id
        if (organization, project, "") in self._refused:
            BUDGET_REFUSALS.labels("tenant").inc()
            raise _exceeded("the tenant's monthly budget is spent")
        if credential_id and (organization, project, credential_id) in self._refused:
            BUDGET_REFUSALS.labels("credential").inc()
            raise _exceeded("the credential's monthly budget is spent")

    # --- The ledger's listener --------------------------------------------------------------

    def written(self, batch: Sequence[tuple[UsageRecord, Cost]]) -> None:
        """Counts a durable batch at once (this process refuses its next call if it crossed)."""
        start, end = self._month_start.timestamp(), self._month_end_ts
        touched: set[Scope] = set()
        for record, cost in batch:
            if not start <= record.started_at < end:
                continue
            tenant = record.tenant
            whole = (tenant.organization_id, tenant.project_id, "")
            scopes = [whole]
            if record.credential_id:
                scopes.append((tenant.organization_id, tenant.project_id, record.credential_id))
            for scope in scopes:
                if scope in self._tracked:
                    self._recent.setdefault(scope, Spend()).add(record, cost)
                    touched.add(scope)
        for scope in touched:
            self._evaluate(scope)

    # --- Reading ----------------------------------------------------------------------------

    def spent(self, scope: Scope) -> Decimal:
        tracked = self._tracked.get(scope)
        if tracked is None:
            return Decimal(0)
        unit = tracked.budget.unit
        local = sum(
            (part[scope].in_unit(unit) for part in (self._earlier, self._recent) if scope in part),
            Decimal(0),
        )
        return tracked.stored + local

    def summary(self) -> dict[str, int]:
        """How many budgets are within, past their soft limit, at or past their hard limit."""
        counts = {"within": 0, SOFT: 0, HARD: 0}
        for scope, tracked in self._tracked.items():
            counts[state_of(tracked.budget, self.spent(scope)) or "within"] += 1
        return counts

    # --- Refreshing -------------------------------------------------------------------------

    def start(self) -> None:
        self._task.start()

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
                await self.announce()
                if self._database_down:
                    self._database_down = False
                    log.info("budgets refreshed again")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the last known state stays in force
                # Before the first refresh the database is still being reached (readiness says so).
                if self.refreshed and not self._database_down:
                    self._database_down = True
                    log.warning(
                        "budgets not refreshed; the last known state stays in force",
                        error_type=type(error).__name__,
                    )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._refresh_seconds)

    async def refresh(self) -> None:
        """One query for every budget and its month's spend; then this process's writes since.
        One refresh at a time (a change in this process refreshes at once, beside the timer)."""
        async with self._refreshing:
            await self._refresh()

    async def refresh_now(self) -> None:
        """A budget changed in this process: its guard holds the change when this returns (a
        failure leaves it to the next refresh, within a second)."""
        try:
            await self.refresh()
        except Exception as error:  # noqa: BLE001 - the change is stored; the timer catches up
            log.warning("budgets not refreshed after a change", error_type=type(error).__name__)
            self._wake.set()

    async def _refresh(self) -> None:
        start, end = month_of(datetime.fromtimestamp(self._clock(), UTC))
        new_month = start != self._month_start
        # Batches told from here on may or may not be in the result: they stay counted locally.
        self._earlier, self._recent = (
            ({}, {}) if new_month else ({**_merged(self._earlier, self._recent)}, {})
        )
        rows = await self._repository().with_spend(start, end)
        self._earlier = {}
        if new_month:
            self._recent = {}
        self._month_start, self._month_end = start, end
        self._month_end_ts = end.timestamp()
        self._install(rows)
        self.refreshed = True

    def _install(self, rows: list[BudgetSpend]) -> None:
        month = self._month_start.date()
        tracked: dict[Scope, _Tracked] = {}
        for row in rows:
            budget = row.budget
            announced = {t for t in (SOFT, HARD) if budget.announced(t) == month}
            tracked[budget.scope] = _Tracked(budget, row.spent, announced)
        self._tracked = tracked
        self._recent = {scope: s for scope, s in self._recent.items() if scope in tracked}
        self._refused = {
            scope
            for scope, item in tracked.items()
            if state_of(item.budget, self.spent(scope)) == HARD
        }

    def _evaluate(self, scope: Scope) -> None:
        tracked = self._tracked[scope]
        spent = self.spent(scope)
        crossed = reached(tracked.budget, spent)
        if HARD in crossed:
            self._refused.add(scope)
        if any(threshold not in tracked.announced for threshold in crossed):
            self._wake.set()

    async def announce(self) -> None:
        """Claims and announces each threshold reached and not yet announced this month."""
        month = self._month_start.date()
        for scope, tracked in list(self._tracked.items()):
            spent = self.spent(scope)
            for threshold in reached(tracked.budget, spent):
                if threshold in tracked.announced:
                    continue
                event = _announcement(tracked.budget, threshold, spent, month)
                if await self._repository().claim_announcement(
                    tracked.budget, threshold, month, event
                ):
                    BUDGET_THRESHOLDS.labels(threshold).inc()
                    log.warning(
                        "budget threshold reached",
                        budget_id=tracked.budget.id,
                        threshold=threshold,
                        unit=tracked.budget.unit,
                    )
                tracked.announced.add(threshold)


def _merged(*parts: dict[Scope, Spend]) -> dict[Scope, Spend]:
    merged: dict[Scope, Spend] = {}
    for part in parts:
        for scope, spend in part.items():
            total = merged.setdefault(scope, Spend())
            total.cost_micros += spend.cost_micros
            total.tokens += spend.tokens
    return merged


def _exceeded(message: str) -> ResourceExhausted:
    return ResourceExhausted(message + " until the next month", reason=BUDGET_EXCEEDED)


def _announcement(budget: BudgetRow, threshold: str, spent: Decimal, month: date) -> AuditEvent:
    return AuditEvent(
        actor=ANNOUNCER,
        tenant=budget.tenant,
        action=f"budget.{threshold}_limit_reached",
        target_type="budget",
        target_id=budget.id,
        details={
            "spent": round(spent),
            "limit": budget.limit(threshold),
            "unit": budget.unit,
            "month": month.isoformat()[:7],
            "credential_id": budget.credential_id,
        },
    )
