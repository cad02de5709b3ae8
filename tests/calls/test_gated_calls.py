"""Call control passes the credential's gate like every other provider call: its limits, the
pauses its provider's 429s asked for, and its breaker. A refused action never reaches the
provider. One service with the gate on, over real PostgreSQL and Redis; a loopback Twilio."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import grpc
import pytest
from integration_api_proto.integration.v1 import CredentialLimits
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub

from integration_api.config import CallGateSettings
from tests.calls.accounts import CallAccount, create_request, store
from tests.calls.support import CALLEE, Calls, place_request, refused, stream
from tests.fakes.call_book import OWNED_NUMBER
from tests.fakes.calls_twilio import TwilioCallsFake
from tests.fakes.server import FakeServer
from tests.support.service import RunningService, gated_service
from tests.support.telephony_credentials import TELEPHONY_ACCOUNTS

GATE = CallGateSettings(breaker_failures=2, breaker_open_seconds=30)
TWILIO = next(item for item in TELEPHONY_ACCOUNTS if item.provider == "twilio")


@pytest.fixture(scope="module")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with gated_service(package_database_dsn, GATE) as running:
        yield running


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as opened:
        yield opened


async def twilio_account(
    service: RunningService, stack: AsyncExitStack, limits: CredentialLimits | None = None
) -> CallAccount:
    """A fresh Twilio account and credential: each test's gate counts start empty."""
    server = await stack.enter_async_context(FakeServer())
    token = "tok" + secrets.token_hex(16)
    accepted = {token}
    TWILIO.endpoint.install(server, accepted)
    fake = TwilioCallsFake(accepted)
    fake.install(server)
    request = create_request("twilio", token, server.url, "")
    if limits is not None:
        request.config.limits = limits
    credential_id = await store(service, request)
    return CallAccount("twilio", server, fake, credential_id, (token,), accepted)


def calls(service: RunningService) -> Calls:
    return Calls(TelephonyServiceStub(service.channel), service)


def provider_requests(account: CallAccount) -> int:
    return sum(1 for request in account.server.requests if "/Calls" in request.path)


async def test_a_credential_at_its_requests_per_minute_places_and_reads_no_more_calls(
    service: RunningService, stack: AsyncExitStack
) -> None:
    account = await twilio_account(service, stack, CredentialLimits(requests_per_minute=2))
    placed = await calls(service).place(place_request(account, stream()))
    assert not isinstance(placed, grpc.aio.AioRpcError), placed
    call_id = account.fake.book.only().call_id
    read = await calls(service).get(account, call_id)
    assert not isinstance(read, grpc.aio.AioRpcError), read
    before = provider_requests(account)

    for action in (
        calls(service).get(account, call_id),
        calls(service).hang_up(account, call_id),
        calls(service).place(place_request(account, stream())),
    ):
        error = refused(await action, grpc.StatusCode.RESOURCE_EXHAUSTED, "CREDENTIAL_RATE_LIMITED")
        assert "requests-per-minute" in (error.details() or "")
    assert provider_requests(account) == before


async def test_a_429_with_retry_after_pauses_the_credential_before_its_provider(
    service: RunningService, stack: AsyncExitStack
) -> None:
    account = await twilio_account(service, stack)
    call = account.fake.book.open(OWNED_NUMBER, CALLEE, "in-progress", {})
    account.server.answer_with_status(
        429, {"code": 20429, "message": "Too many requests"}, {"Retry-After": "30"}
    )
    limited = await calls(service).get(account, call.call_id)
    assert isinstance(limited, grpc.aio.AioRpcError)
    assert limited.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    asked = provider_requests(account)
    account.server.behave_normally()

    paused = refused(
        await calls(service).get(account, call.call_id),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "CREDENTIAL_RATE_LIMITED",
    )
    assert "rate limit resets" in (paused.details() or "")
    assert provider_requests(account) == asked


async def test_a_failing_provider_opens_the_credentials_breaker_and_calls_stop_reaching_it(
    service: RunningService, stack: AsyncExitStack
) -> None:
    account = await twilio_account(service, stack)
    call = account.fake.book.open(OWNED_NUMBER, CALLEE, "in-progress", {})
    account.server.answer_with_status(503, {"message": "unavailable"})
    for _ in range(GATE.breaker_failures):
        failed = await calls(service).get(account, call.call_id)
        assert isinstance(failed, grpc.aio.AioRpcError)
        assert failed.code() == grpc.StatusCode.UNAVAILABLE
    reached = provider_requests(account)
    account.server.behave_normally()

    refused(
        await calls(service).hang_up(account, call.call_id),
        grpc.StatusCode.UNAVAILABLE,
        "CIRCUIT_OPEN",
    )
    assert provider_requests(account) == reached
