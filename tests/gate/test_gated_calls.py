"""Every call passes its credential's gate before its provider: limits from the credential's
config, pauses the provider asked for, and a breaker that opens on repeated failures and shows
in the inventory and in Opstage. One service over real PostgreSQL and Redis, a loopback provider
that fails on command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    CredentialConfig,
    CredentialLimits,
    EffectiveStatus,
    EmbedRequest,
    GetCredentialRequest,
    GetInventoryRequest,
    UpdateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    EmbeddingServiceStub,
    OperationsServiceStub,
)

from integration_api.config import CallGateSettings
from integration_api.ops.opstage.report import ServiceReport
from tests.fakes.gated_provider import GatedProvider
from tests.gate.support import KEY, say_hi, store_limited
from tests.support.service import RunningService, gated_service

GATE = CallGateSettings(breaker_failures=3, breaker_open_seconds=0.5)


@pytest.fixture(scope="module")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with gated_service(package_database_dsn, GATE) as running:
        yield running


@pytest.fixture
async def provider() -> AsyncIterator[GatedProvider]:
    async with GatedProvider() as fake:
        yield fake


async def test_a_credential_at_its_requests_per_minute_is_refused_before_its_provider(
    service: RunningService, provider: GatedProvider
) -> None:
    credential = await store_limited(
        service, provider.base_url, CredentialLimits(requests_per_minute=3)
    )
    answers = [await say_hi(service, credential) for _ in range(2)]
    embedded = await EmbeddingServiceStub(service.channel).embed(
        EmbedRequest(credential_id=credential, inputs=["one"]), metadata=service.auth()
    )
    refused = await say_hi(service, credential)
    assert [answer.code() for answer in answers] == [grpc.StatusCode.OK] * 2
    assert len(embedded.embeddings) == 1  # every operation counts against the one limit
    assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert refused.reason() == "CREDENTIAL_RATE_LIMITED"
    assert refused.metadata()["limit"] == "requests_per_minute"
    assert refused.metadata()["provider"] == "openai-compatible"
    assert 0 < (refused.retry_delay_seconds() or 0) <= 60
    assert provider.requests == 3
    assert KEY not in str(refused.error)


async def test_tokens_per_minute_are_counted_from_the_usage_the_provider_reported(
    service: RunningService, provider: GatedProvider
) -> None:
    provider.usage_tokens = 60
    credential = await store_limited(
        service, provider.base_url, CredentialLimits(tokens_per_minute=100)
    )
    first, second, third = [await say_hi(service, credential) for _ in range(3)]
    assert first.code() == second.code() == grpc.StatusCode.OK
    assert third.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert third.reason() == "CREDENTIAL_RATE_LIMITED"
    assert provider.requests == 2


async def test_limits_are_stored_shown_back_changed_and_bounded(
    service: RunningService, provider: GatedProvider
) -> None:
    stub = CredentialServiceStub(service.channel)
    limits = CredentialLimits(requests_per_minute=10, tokens_per_minute=5000, concurrent_calls=2)
    credential = await store_limited(service, provider.base_url, limits)
    shown = await stub.get_credential(GetCredentialRequest(id=credential), metadata=service.auth())
    assert shown.credential is not None and shown.credential.config is not None
    assert shown.credential.config.limits == limits
    wider = CredentialLimits(requests_per_minute=20)
    config = CredentialConfig(base_url=provider.base_url, default_model="m", limits=wider)
    updated = await stub.update_credential(
        UpdateCredentialRequest(id=credential, config=config), metadata=service.auth()
    )
    assert updated.credential is not None and updated.credential.config is not None
    assert updated.credential.config.limits == wider
    too_many = CredentialConfig(
        base_url=provider.base_url, limits=CredentialLimits(requests_per_minute=2_000_000)
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.update_credential(
            UpdateCredentialRequest(id=credential, config=too_many),
            metadata=service.auth(),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "config.limits.requests_per_minute" in (refused.value.details() or "")


async def test_a_429_with_retry_after_pauses_the_credential_for_the_whole_fleet(
    service: RunningService, provider: GatedProvider
) -> None:
    credential = await store_limited(service, provider.base_url)
    provider.fail_with(429, {"retry-after": "30"})
    limited = await say_hi(service, credential)
    provider.behave()
    paused = await say_hi(service, credential)
    assert limited.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert limited.reason() == "RATE_LIMITED"  # the provider's own answer
    assert paused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert paused.reason() == "CREDENTIAL_RATE_LIMITED"
    assert paused.metadata()["limit"] == "provider_pause"
    assert 25 < (paused.retry_delay_seconds() or 0) <= 30
    assert provider.requests == 1  # more than 10 s asked: no retry, and the pause held


async def test_a_good_answer_that_spends_the_providers_window_pauses_until_its_reset(
    service: RunningService, provider: GatedProvider
) -> None:
    credential = await store_limited(service, provider.base_url)
    provider.ok_headers = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "0.6s",
    }
    served = await say_hi(service, credential)
    provider.behave()
    paused = await say_hi(service, credential)
    await asyncio.sleep(0.7)
    after_reset = await say_hi(service, credential)
    assert served.code() == grpc.StatusCode.OK
    assert paused.reason() == "CREDENTIAL_RATE_LIMITED"
    assert after_reset.code() == grpc.StatusCode.OK
    assert provider.requests == 2


async def _credential_status(service: RunningService, credential: str) -> EffectiveStatus:
    page = await OperationsServiceStub(service.channel).get_inventory(
        GetInventoryRequest(page_size=500), metadata=service.operator_auth()
    )
    return next(
        item for item in page.credentials if item.credential_id == credential
    ).effective_status


async def test_repeated_failures_open_the_breaker_which_shows_and_closes_after_a_good_trial(
    service: RunningService, provider: GatedProvider
) -> None:
    credential = await store_limited(service, provider.base_url)
    provider.fail_with(503)
    failed = await say_hi(service, credential)  # three attempts (retries): three failures
    reached = provider.requests
    refused = await say_hi(service, credential)
    status_open = await _credential_status(service, credential)
    runtime = service.app.runtime
    assert runtime is not None
    report = ServiceReport(runtime.database, runtime.keyring, 300, runtime.gate)
    providers = {item["code"]: item for item in await report.services()}
    provider_configs = providers["provider-openai-compatible"]["configs"]
    configs = {config["key"]: config["valuePreview"] for config in provider_configs}
    provider.behave()
    await asyncio.sleep(0.55)
    trial = await say_hi(service, credential)
    assert failed.code() == grpc.StatusCode.UNAVAILABLE
    assert reached == 3
    assert refused.code() == grpc.StatusCode.UNAVAILABLE
    assert refused.reason() == "CIRCUIT_OPEN"
    assert 0 < (refused.retry_delay_seconds() or 0) <= 0.5
    assert status_open == EffectiveStatus.CIRCUIT_OPEN
    assert int(configs["CREDENTIALS_CIRCUIT_OPEN"]) >= 1
    assert providers["provider-openai-compatible"]["health"]["status"] != "UP"
    assert trial.code() == grpc.StatusCode.OK
    assert provider.requests == reached + 1
    assert await _credential_status(service, credential) != EffectiveStatus.CIRCUIT_OPEN


async def test_refusals_of_the_request_never_open_the_breaker(
    service: RunningService, provider: GatedProvider
) -> None:
    credential = await store_limited(service, provider.base_url)
    provider.fail_with(400)
    refused = [await say_hi(service, credential) for _ in range(4)]
    provider.behave()
    served = await say_hi(service, credential)
    assert {answer.code() for answer in refused} == {grpc.StatusCode.INVALID_ARGUMENT}
    assert served.code() == grpc.StatusCode.OK


async def test_the_inventory_refuses_circuit_open_as_a_filter(service: RunningService) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await OperationsServiceStub(service.channel).get_inventory(
            GetInventoryRequest(effective_status=EffectiveStatus.CIRCUIT_OPEN),
            metadata=service.operator_auth(),
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
