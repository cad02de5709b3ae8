"""Fixtures of the record tests: one metered service per test module (its own database), with a
capturing ledger and a refusing budget guard, both emptied before every test.

Kept out of a conftest so each module names what it uses (`from ... import service, ...`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from integration_api.usage.ports import BUDGET_EXCEEDED
from integration_api.usage.record import UsageRecord
from tests.credentials.helpers import error_info
from tests.support.databases import fresh_database
from tests.support.service import RunningService
from tests.support.usage import CapturingLedger, RefusingBudgets, metered_service


@pytest.fixture(scope="module")
def ledger() -> CapturingLedger:
    return CapturingLedger()


@pytest.fixture(scope="module")
def budgets() -> RefusingBudgets:
    return RefusingBudgets()


@pytest.fixture(scope="module")
async def service(
    ledger: CapturingLedger, budgets: RefusingBudgets
) -> AsyncIterator[RunningService]:
    async with fresh_database() as dsn, metered_service(dsn, ledger, budgets) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_usage(ledger: CapturingLedger, budgets: RefusingBudgets) -> Iterator[None]:
    ledger.clear()
    budgets.reset()
    yield


class Window:
    """The wall-clock span of a test's call, to check a record's `started_at` against."""

    def __init__(self) -> None:
        self.opened = time.time()
        self.closed = 0.0

    def close(self) -> None:
        self.closed = time.time()

    def holds(self, record: UsageRecord) -> bool:
        ended = record.started_at + record.duration_seconds
        return self.opened <= record.started_at <= ended <= self.closed + 0.001


def secrets_absent(records: list[UsageRecord], *secrets: str) -> None:
    """No field of any record holds any of `secrets` (nor a part of one)."""
    shown = repr(records)
    for secret in secrets:
        if secret:
            assert secret not in shown and secret[-12:] not in shown


async def one_record(ledger: CapturingLedger) -> UsageRecord:
    """The one record the test's call left, once the ledger has it."""
    (record,) = await ledger.settled(1)
    return record


async def no_record(ledger: CapturingLedger) -> None:
    """Still no record a moment after the call: a call refused before any provider is not usage."""
    await asyncio.sleep(0.1)
    assert ledger.records == []


def refused_by_budget(error: grpc.aio.AioRpcError | None) -> None:
    assert error is not None
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_info(error).reason == BUDGET_EXCEEDED
