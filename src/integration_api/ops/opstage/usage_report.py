"""This month's usage per provider and the budgets' states, as the Opstage report shows them.

The agent sends its whole report again whenever any value in it changes, and usage changes with
every call: the figures are read (two queries over the hourly sums) at most once per `every`
seconds, so a busy service sends at most one report per period for them, and costs are shown to
the cent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from integration_api.database import Database
from integration_api.store.usage_budgets import HARD, SOFT, BudgetRepository
from integration_api.store.usage_month import ProviderUsage, usage_by_provider
from integration_api.usage.budgets import month_of, state_of

USAGE_EVERY_SECONDS = 300.0
MICROS_PER_CENT = Decimal(10_000)


@dataclass(frozen=True)
class UsageFigures:
    month: str
    providers: dict[str, ProviderUsage] = field(default_factory=dict)
    # "within", "soft", "hard": how many budgets are in each state.
    budgets: dict[str, int] = field(default_factory=dict)


def usd(cost_micros: Decimal) -> str:
    cents = (cost_micros / MICROS_PER_CENT).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return f"{cents / 100:.2f}"


class UsageReport:
    def __init__(
        self,
        database: Database,
        every: float = USAGE_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._every = every
        self._clock = clock
        self._figures: UsageFigures | None = None
        self._read_at = 0.0

    async def figures(self) -> UsageFigures:
        if self._figures is None or self._clock() - self._read_at >= self._every:
            self._figures = await self._read()
            self._read_at = self._clock()
        return self._figures

    async def _read(self) -> UsageFigures:
        start, end = month_of(datetime.now(UTC))
        pool = self._database.pool
        providers = await usage_by_provider(pool, start, end)
        counts = {"within": 0, SOFT: 0, HARD: 0}
        for row in await BudgetRepository(pool).with_spend(start, end):
            counts[state_of(row.budget, row.spent) or "within"] += 1
        return UsageFigures(start.strftime("%Y-%m"), providers, counts)


def provider_usage_configs(
    figures: UsageFigures, provider: str, config: Callable[[str, object, str], dict[str, Any]]
) -> list[dict[str, Any]]:
    used = figures.providers.get(provider) or ProviderUsage(0, 0, 0.0, 0, Decimal(0))
    month = figures.month
    return [
        config("USAGE_MONTH", month, "Usage period (UTC month)"),
        config("USAGE_CALLS", used.calls, f"Calls in {month}"),
        config("USAGE_TOKENS", used.tokens, f"Tokens in {month}"),
        config("USAGE_AUDIO_SECONDS", round(used.audio_seconds), f"Audio seconds in {month}"),
        config("USAGE_CHARACTERS", used.characters, f"Characters synthesized in {month}"),
        config("USAGE_COST_USD", usd(used.cost_micros), f"Cost in {month} (USD)"),
    ]


def budget_configs(
    figures: UsageFigures, config: Callable[[str, object, str], dict[str, Any]]
) -> list[dict[str, Any]]:
    counts = figures.budgets
    return [
        config("BUDGETS_WITHIN", counts.get("within", 0), "Budgets within their limits"),
        config("BUDGETS_SOFT_EXCEEDED", counts.get(SOFT, 0), "Budgets past their soft limit"),
        config(
            "BUDGETS_HARD_EXCEEDED",
            counts.get(HARD, 0),
            "Budgets at their hard limit (calls refused)",
        ),
    ]
