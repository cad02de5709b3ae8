"""Admission at the gRPC edge, through a real server and real clients: anonymous health `Watch`
and reflection streams have budgets of their own, health `Check` is never counted, and
authenticated RPCs have theirs; a stream that sends nothing is ended at the first-message bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2
from integration_api_proto.integration.v1 import ListCredentialsRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, SpeechServiceStub
from prometheus_client import REGISTRY

from integration_api.config import GrpcLimits
from integration_api.errors import ResourceExhausted
from integration_api.server.admission import Budget, peer_address
from tests.speech.test_failures import error_info
from tests.support.health_client import check_status, next_status, watch
from tests.support.service import RunningService, running_service

SERVING = health_pb2.HealthCheckResponse.SERVING
REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
LIST_SERVICES = reflection_pb2.ServerReflectionRequest(list_services="")


async def _outcome(call: Any) -> grpc.StatusCode | int:
    """SERVING for a Watch stream that answered, else the status code it was refused with."""
    try:
        return await next_status(call)
    except grpc.aio.AioRpcError as error:
        return error.code()


async def _refusal(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call.read()
    return raised.value


async def _list_credentials(service: RunningService) -> None:
    await CredentialServiceStub(service.channel).list_credentials(
        ListCredentialsRequest(), metadata=service.auth(), timeout=5
    )


def _refused(budget: str) -> float:
    found = REGISTRY.get_sample_value(
        "integration_api_grpc_admission_refused_total", {"budget": budget}
    )
    return found or 0.0


def _cancel_all(calls: list[Any]) -> None:
    for call in calls:
        call.cancel()


async def test_anonymous_watch_streams_past_their_budget_are_refused_while_check_and_tokens_answer(
    postgres_dsn: str,
) -> None:
    # The main budget is as small as the Watch budget: before, Watch streams took its slots.
    limits = GrpcLimits(max_concurrent_rpcs=5, max_watch_streams=5, max_watch_streams_per_peer=5)
    async with running_service(postgres_dsn, grpc=limits) as service:
        refused_before = _refused("watch")
        watchers = [watch(service.channel) for _ in range(20)]
        outcomes = await asyncio.gather(*(_outcome(w) for w in watchers))
        assert outcomes.count(SERVING) == 5
        assert outcomes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 15
        assert _refused("watch") - refused_before == 15
        refused = next(w for w, o in zip(watchers, outcomes, strict=True) if o != SERVING)
        assert error_info(await _refusal(refused))["reason"] == "HEALTH_WATCH_LIMIT"
        started = time.perf_counter()
        assert await check_status(service.channel) == SERVING
        assert time.perf_counter() - started < 0.5
        await _list_credentials(service)
        _cancel_all(watchers)
        await asyncio.sleep(0.1)
        # Slots free as the streams go.
        again = watch(service.channel)
        assert await next_status(again) == SERVING
        again.cancel()


async def test_one_address_holds_at_most_its_share_of_watch_streams(postgres_dsn: str) -> None:
    limits = GrpcLimits(max_watch_streams=10, max_watch_streams_per_peer=3)
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        grpc.aio.insecure_channel(service.address) as second,
    ):
        # Two connections from one address are one peer.
        watchers = [watch(channel) for channel in (service.channel, second) * 3]
        outcomes = await asyncio.gather(*(_outcome(w) for w in watchers))
        assert outcomes.count(SERVING) == 3
        assert outcomes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 3
        _cancel_all(watchers)


def test_budgets_count_per_address_and_in_all() -> None:
    budget = Budget("watch", "HEALTH_WATCH_LIMIT", total=3, per_key=2)
    first, second = peer_address("ipv4:10.0.0.7:51234"), peer_address("ipv4:10.0.0.7:40000")
    assert first == second == "ipv4:10.0.0.7"
    assert peer_address("ipv6:[::1]:51234") == "ipv6:[::1]"
    with budget.slot(first), budget.slot(second):
        with pytest.raises(ResourceExhausted, match="2 from one address"), budget.slot(first):
            pass
        third = budget.slot("ipv4:10.0.0.8")
        with (
            third,
            pytest.raises(ResourceExhausted, match="3 in all"),
            budget.slot("ipv4:10.0.0.9"),
        ):
            pass
    assert budget.open == 0


def _reflection_stream(channel: grpc.aio.Channel) -> Any:
    call = channel.stream_stream(
        REFLECTION,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return call()


async def _reflection_outcome(call: Any) -> grpc.StatusCode:
    try:
        await call.write(LIST_SERVICES)
        reply = await call.read()
    except grpc.aio.AioRpcError as error:
        return error.code()
    if reply is grpc.aio.EOF:
        return await call.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


async def test_reflection_streams_past_their_budget_are_refused_while_check_and_tokens_answer(
    postgres_dsn: str,
) -> None:
    limits = GrpcLimits(
        max_concurrent_rpcs=2, max_reflection_streams=2, max_reflection_streams_per_peer=2
    )
    async with running_service(postgres_dsn, grpc=limits) as service:
        streams = [_reflection_stream(service.channel) for _ in range(6)]
        outcomes = await asyncio.gather(*(_reflection_outcome(s) for s in streams))
        assert outcomes.count(grpc.StatusCode.OK) == 2
        assert outcomes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 4
        assert await check_status(service.channel) == SERVING
        await _list_credentials(service)
        _cancel_all(streams)


@asynccontextmanager
async def _silent_transcribes(
    service: RunningService, count: int, organization_id: str = "org-test"
) -> AsyncIterator[list[Any]]:
    """`count` Transcribe streams opened with a valid token that never send their config."""
    speech = SpeechServiceStub(service.channel)
    auth = service.auth(organization_id=organization_id)
    calls = [speech.transcribe(metadata=auth) for _ in range(count)]
    for call in calls:
        await call.wait_for_connection()
    try:
        yield calls
    finally:
        _cancel_all(calls)


async def test_token_holders_past_the_rpc_budget_are_refused_at_once_and_check_still_answers(
    postgres_dsn: str,
) -> None:
    limits = GrpcLimits(max_concurrent_rpcs=3, first_message_seconds=0.6)
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        _silent_transcribes(service, 3),
    ):
        await asyncio.sleep(0.1)  # the three are admitted
        started = time.perf_counter()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await _list_credentials(service)
        assert time.perf_counter() - started < 0.5, "refused at once, never queued"
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(raised.value)["reason"] == "SERVER_RPC_LIMIT"
        assert await check_status(service.channel) == SERVING
        anonymous = watch(service.channel)
        assert await next_status(anonymous) == SERVING  # a budget of its own
        anonymous.cancel()
        # The silent streams end at the first-message bound and free their slots.
        await asyncio.sleep(0.8)
        await _list_credentials(service)


@pytest.mark.parametrize("rpc", ["transcribe", "synthesize_stream"])
async def test_a_stream_that_never_sends_its_first_message_ends_at_the_bound(
    rpc: str, postgres_dsn: str
) -> None:
    limits = GrpcLimits(first_message_seconds=0.3)
    async with running_service(postgres_dsn, grpc=limits) as service:
        call = getattr(SpeechServiceStub(service.channel), rpc)(metadata=service.auth())
        started = time.perf_counter()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await asyncio.wait_for(call.read(), 5)
        elapsed = time.perf_counter() - started
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert error_info(raised.value)["reason"] == "FIRST_MESSAGE_TIMEOUT"
        assert 0.25 < elapsed < 2.0


async def test_a_reflection_stream_that_sends_nothing_ends_at_the_first_message_bound(
    postgres_dsn: str,
) -> None:
    limits = GrpcLimits(first_message_seconds=0.3)
    async with running_service(postgres_dsn, grpc=limits) as service:
        call = _reflection_stream(service.channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await asyncio.wait_for(call.read(), 5)
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        with suppress(grpc.aio.AioRpcError):
            call.cancel()


async def test_one_tenant_cannot_hold_the_server_with_streams_that_never_send_a_first_message(
    postgres_dsn: str,
) -> None:
    limits = GrpcLimits(
        max_concurrent_rpcs=6, max_opening_streams_per_tenant=3, first_message_seconds=5
    )
    async with (
        running_service(postgres_dsn, grpc=limits) as service,
        _silent_transcribes(service, 5, organization_id="org-greedy") as greedy,
    ):
        outcomes = []
        for call in greedy:
            try:
                await asyncio.wait_for(call.read(), 0.3)
            except grpc.aio.AioRpcError as error:
                outcomes.append(error_info(error)["reason"])
            except TimeoutError:
                outcomes.append("open")
        assert outcomes.count("open") == 3
        assert outcomes.count("TENANT_OPENING_STREAM_LIMIT") == 2
        # Another tenant is served, streams included.
        await _list_credentials(service)
        async with _silent_transcribes(service, 3, organization_id="org-other") as others:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(others[0].read(), 0.2)
        # A stream that goes gives its slots back at once.
        _cancel_all(greedy)
        await asyncio.sleep(0.1)
        async with _silent_transcribes(service, 1, organization_id="org-greedy") as again:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(again[0].read(), 0.2)
