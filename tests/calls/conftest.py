"""One running service and one fake account per telephony provider, shared by the call tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub

from tests.calls.accounts import PROVIDERS, CallAccount, call_accounts
from tests.support.provider_fixtures import service
from tests.support.service import RunningService


@pytest.fixture(scope="package")
async def all_accounts(service: RunningService) -> AsyncIterator[dict[str, CallAccount]]:
    async with call_accounts(service) as found:
        yield found


@pytest.fixture
def accounts(all_accounts: dict[str, CallAccount]) -> dict[str, CallAccount]:
    """The accounts, each with its traffic, calls and behaviour reset for this test."""
    for account in all_accounts.values():
        account.reset()
    return all_accounts


@pytest.fixture(params=PROVIDERS)
def account(request: pytest.FixtureRequest, accounts: dict[str, CallAccount]) -> CallAccount:
    chosen: CallAccount = accounts[request.param]
    return chosen


@pytest.fixture
def telephony(service: RunningService) -> TelephonyServiceStub:
    return TelephonyServiceStub(service.channel)


__all__ = ["service"]
