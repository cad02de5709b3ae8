"""The usage ports for tests: a ledger that keeps every record in a list, a budget guard that
refuses the credentials and tenants it is told to, and the real service built with both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from integration_api.assembly.runtime import Runtime
from integration_api.config import Settings
from integration_api.database import Database
from integration_api.errors import ResourceExhausted
from integration_api.principal import Tenant
from integration_api.usage.ports import BUDGET_EXCEEDED
from integration_api.usage.record import UsageRecord
from tests.support.service import (
    DEFAULT_ORGANIZATION,
    DEFAULT_PROJECT,
    RunningService,
    running_service,
)

DEFAULT_TENANT = Tenant(DEFAULT_ORGANIZATION, DEFAULT_PROJECT)


class CapturingLedger:
    """Every record the pipelines made, in the order they were made."""

    def __init__(self) -> None:
        self.records: list[UsageRecord] = []
        self._added = asyncio.Event()

    def record(self, record: UsageRecord) -> None:
        self.records.append(record)
        self._added.set()

    def clear(self) -> None:
        self.records.clear()

    def of(self, operation: str) -> list[UsageRecord]:
        return [record for record in self.records if record.operation == operation]

    async def settled(self, count: int, seconds: float = 5.0) -> list[UsageRecord]:
        """The records once there are `count` of them (a cancelled stream's generator may end
        a moment after its status reached the caller); then a short while more, so a second
        record of the same call would be seen."""
        async with asyncio.timeout(seconds):
            while len(self.records) < count:
                self._added.clear()
                await self._added.wait()
        await asyncio.sleep(0.1)
        return list(self.records)


class RefusingBudgets:
    """A budget guard whose spent budgets are named by the test: credentials and tenants."""

    def __init__(self) -> None:
        self.spent_credentials: set[str] = set()
        self.spent_tenants: set[Tenant] = set()
        self.asked: list[tuple[Tenant, str]] = []

    def admit(self, tenant: Tenant, credential_id: str) -> None:
        self.asked.append((tenant, credential_id))
        if tenant in self.spent_tenants or credential_id in self.spent_credentials:
            error = ResourceExhausted(
                "the monthly budget is spent; calls resume next month", reason=BUDGET_EXCEEDED
            )
            error.retryable = False
            raise error

    def reset(self) -> None:
        self.spent_credentials.clear()
        self.spent_tenants.clear()
        self.asked.clear()


@asynccontextmanager
async def metered_service(
    database_dsn: str, ledger: CapturingLedger, budgets: RefusingBudgets, **overrides: Any
) -> AsyncIterator[RunningService]:
    """The real service whose pipelines record into `ledger` and ask `budgets`.

    The runtime is built as in production, then given these two ports before the services are
    assembled over it (they read `runtime.usage_ledger` and `runtime.budget_guard` once, at
    assembly).
    """
    original = Runtime.create

    async def create(settings: Settings, database: Database) -> Runtime:
        runtime = await original(settings, database)
        runtime.usage_ledger = ledger
        runtime.budget_guard = budgets
        return runtime

    service = running_service(database_dsn, **overrides)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Runtime, "create", create)
        running = await service.__aenter__()
    try:
        yield running
    finally:
        await service.__aexit__(None, None, None)
