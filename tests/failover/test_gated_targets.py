"""A route skips a target its credential's gate refuses, without calling its provider: one at
its requests-per-minute limit (SKIPPED_RATE_LIMITED) or with its breaker open
(SKIPPED_BREAKER_OPEN); the next target answers. A service with the gate on, over Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1 import (
    CredentialConfig,
    CredentialLimits,
    UpdateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.config import CallGateSettings
from tests.failover.support import (
    MODEL,
    Target,
    chat_through,
    create_route,
    from_one_target,
    outcomes,
    report_of,
)
from tests.support.service import RunningService, gated_service

GATE = CallGateSettings(breaker_failures=2, breaker_open_seconds=30)


@pytest.fixture(scope="module")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with gated_service(package_database_dsn, GATE) as running:
        yield running


async def limit(service: RunningService, target: Target, requests_per_minute: int) -> None:
    config = CredentialConfig(
        base_url=target.provider.base_url,
        default_model=MODEL,
        limits=CredentialLimits(requests_per_minute=requests_per_minute),
    )
    await CredentialServiceStub(service.channel).update_credential(
        UpdateCredentialRequest(id=target.credential_id, config=config), metadata=service.auth()
    )


async def test_a_target_at_its_requests_per_minute_is_skipped_without_a_call(
    service: RunningService, first: Target, second: Target
) -> None:
    await limit(service, first, requests_per_minute=2)
    route = await create_route(service, first.credential_id, second.credential_id)
    for _ in range(2):
        assert from_one_target(await chat_through(service, route), first, second) is first

    for _ in range(3):
        answer = await chat_through(service, route)
        assert from_one_target(answer, first, second) is second
        report = report_of(answer)
        assert outcomes(report) == [(0, "SKIPPED_RATE_LIMITED"), (1, "ANSWERED")]
        assert report.attempts[0].reason == "CREDENTIAL_RATE_LIMITED"
        assert report.answered_by == 1
    assert first.provider.chat_requests == 2


async def test_a_target_whose_breaker_is_open_is_skipped_without_a_call(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("server_error")
    for _ in range(GATE.breaker_failures):
        answer = await chat_through(service, route)
        assert from_one_target(answer, first, second) is second
        assert outcomes(report_of(answer))[0][1] != "SKIPPED_BREAKER_OPEN"
    asked = first.provider.chat_requests
    first.provider.behave("ok")

    for _ in range(3):
        answer = await chat_through(service, route)
        assert from_one_target(answer, first, second) is second
        report = report_of(answer)
        assert outcomes(report) == [(0, "SKIPPED_BREAKER_OPEN"), (1, "ANSWERED")]
        assert report.attempts[0].reason == "CIRCUIT_OPEN"
    assert first.provider.chat_requests == asked
