"""Call control through the real service: every action a provider was asked for is one usage
record (place, get, update, hang up); a spent budget refuses a new call before the provider but
never the control of a call already placed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    CallInstructions,
    GetCallResponse,
    HangUpResponse,
    PlaceCallResponse,
    UpdateCallResponse,
)
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub

from integration_api.usage.record import GET_CALL, HANG_UP, PLACE_CALL, UPDATE_CALL
from tests.calls.accounts import CallAccount, call_accounts
from tests.calls.support import ANSWER_URL, Calls, place_request, refused, stream
from tests.support.service import RunningService
from tests.support.usage import DEFAULT_TENANT, CapturingLedger, RefusingBudgets
from tests.usage.records_support import (
    budgets,
    fresh_usage,
    ledger,
    one_record,
    secrets_absent,
    service,
)

__all__ = ["budgets", "fresh_usage", "ledger", "service"]


@pytest.fixture(scope="module")
async def accounts(service: RunningService) -> AsyncIterator[dict[str, CallAccount]]:
    async with call_accounts(service) as found:
        yield found


@pytest.fixture
def twilio(accounts: dict[str, CallAccount]) -> CallAccount:
    account = accounts["twilio"]
    account.reset()
    return account


@pytest.fixture
def calls(service: RunningService) -> Calls:
    return Calls(TelephonyServiceStub(service.channel), service)


async def test_each_call_action_is_one_record(
    calls: Calls, twilio: CallAccount, ledger: CapturingLedger
) -> None:
    placed = await calls.place(place_request(twilio, stream()))
    assert isinstance(placed, PlaceCallResponse), placed
    call_id = placed.call.call_id
    assert isinstance(await calls.get(twilio, call_id), GetCallResponse)
    twilio.fake.book.calls[call_id].status = "in-progress"
    redirect = CallInstructions(url=ANSWER_URL)
    assert isinstance(await calls.update(twilio, call_id, redirect=redirect), UpdateCallResponse)
    assert isinstance(await calls.hang_up(twilio, call_id), HangUpResponse)
    records = await ledger.settled(4)

    assert [record.operation for record in records] == [PLACE_CALL, GET_CALL, UPDATE_CALL, HANG_UP]
    for record in records:
        assert (record.tenant, record.provider, record.outcome) == (DEFAULT_TENANT, "twilio", "ok")
        assert record.credential_id == twilio.credential_id
        assert record.duration_seconds > 0
    secrets_absent(records, *twilio.secrets)


async def test_a_refused_action_is_recorded_with_its_status(
    calls: Calls, twilio: CallAccount, ledger: CapturingLedger
) -> None:
    refused(
        await calls.get(twilio, "CA" + "0" * 32),
        grpc.StatusCode.NOT_FOUND,
        "CALL_NOT_FOUND",
    )
    record = await one_record(ledger)
    assert (record.operation, record.outcome) == (GET_CALL, "not_found")


async def test_a_spent_budget_refuses_a_new_call_but_not_the_control_of_a_placed_one(
    calls: Calls, twilio: CallAccount, ledger: CapturingLedger, budgets: RefusingBudgets
) -> None:
    placed = await calls.place(place_request(twilio, stream()))
    assert isinstance(placed, PlaceCallResponse), placed
    budgets.spent_credentials.add(twilio.credential_id)
    budgets.spent_tenants.add(DEFAULT_TENANT)
    requests_before = len(twilio.server.requests)

    refused(
        await calls.place(place_request(twilio, stream())),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "BUDGET_EXCEEDED",
    )
    assert len(twilio.server.requests) == requests_before
    assert isinstance(await calls.hang_up(twilio, placed.call.call_id), HangUpResponse)
    records = await ledger.settled(2)
    await asyncio.sleep(0.1)

    assert [record.operation for record in records] == [PLACE_CALL, HANG_UP]
    assert budgets.asked == [(DEFAULT_TENANT, twilio.credential_id)] * 2
