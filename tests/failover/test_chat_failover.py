"""Chat through a route: a failing first target costs the caller nothing but the failover.

Two fake providers behind two stored keys; the first fails on command. With a healthy second
target no call fails, every answer is one target's whole text, and the finish reports each
attempt. After the first token nothing moves on, and a caller's mistake never does.
"""

from __future__ import annotations

import asyncio
import time

import grpc
from integration_api_proto.integration.v1 import ChatRequest, CheckOutcome, GetCredentialRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from tests.failover.flaky_provider import RESET_SECONDS
from tests.failover.support import (
    Target,
    chat_through,
    create_route,
    failed_with,
    from_one_target,
    never_shows_a_key,
    outcomes,
    report_of,
)
from tests.llm.support import collect, user_says
from tests.support.service import RunningService


async def test_a_provider_killed_mid_run_costs_no_call(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.die_at_request = 6

    async def caller() -> list[str]:
        answered: list[str] = []
        for _ in range(10):
            answer = await chat_through(service, route)
            never_shows_a_key(answer, first, second)
            assert answer.error is None, answer.error
            answered.append(from_one_target(answer, first, second).name)
            report = report_of(answer)
            if answered[-1] == "bravo":
                assert outcomes(report) == [(0, "UNREACHABLE"), (1, "ANSWERED")]
                assert report.answered and report.answered_by == 1
        return answered

    answered = [name for names in await asyncio.gather(caller(), caller()) for name in names]
    assert answered.count("alpha") == 5
    assert answered.count("bravo") == 15
    assert first.provider.dead


async def test_a_rate_limited_provider_is_asked_once_and_the_next_one_answers(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("rate_limited")
    for _ in range(5):
        answer = await chat_through(service, route)
        assert from_one_target(answer, first, second) is second
        report = report_of(answer)
        assert outcomes(report) == [(0, "RATE_LIMITED"), (1, "ANSWERED")]
        assert report.attempts[0].reason == "RATE_LIMITED"
        assert report.attempts[0].provider == "openai"
        # Not retried on the same key: its reset is seconds away, the next target is not.
        assert report.attempts[0].duration.total_seconds() < RESET_SECONDS / 10
    assert first.provider.chat_requests == 5


async def test_a_provider_slow_to_its_first_token_is_left_at_the_routes_deadline(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(
        service, first.credential_id, second.credential_id, first_token_timeout=0.3
    )
    first.provider.behave("slow_first_token", delay_seconds=3.0)
    started = time.perf_counter()
    answer = await chat_through(service, route)
    assert time.perf_counter() - started < 2.0
    assert from_one_target(answer, first, second) is second
    report = report_of(answer)
    assert outcomes(report) == [(0, "FIRST_TOKEN_TIMEOUT"), (1, "ANSWERED")]
    assert 0.29 < report.attempts[0].duration.total_seconds() < 1.0
    # The caller's time to first token counts the attempt it waited for.
    (finish,) = answer.finishes
    assert finish.timing is not None and finish.timing.time_to_first_token is not None
    assert finish.timing.time_to_first_token.total_seconds() > 0.29


async def test_the_last_target_is_not_held_to_the_first_token_deadline(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(
        service, first.credential_id, second.credential_id, first_token_timeout=0.2
    )
    first.provider.behave("server_error")
    second.provider.behave("slow_first_token", delay_seconds=0.5)
    answer = await chat_through(service, route)
    assert from_one_target(answer, first, second) is second
    assert outcomes(report_of(answer)) == [(0, "PROVIDER_ERROR"), (1, "ANSWERED")]


async def test_a_failure_after_the_first_token_ends_the_call_without_a_second_target(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("cut_after_first_token")
    answer = await chat_through(service, route)
    failed_with(answer, grpc.StatusCode.UNAVAILABLE)
    assert answer.text == first.provider.text_pieces()[0]
    assert answer.finishes == []
    assert second.provider.chat_requests == 0


async def test_an_invalid_request_is_not_sent_to_the_next_target(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("bad_request")
    answer = await chat_through(service, route)
    failed_with(answer, grpc.StatusCode.INVALID_ARGUMENT)
    assert answer.metadata()["route_attempts"] == "0:failed"
    assert answer.metadata()["route_id"] == route
    assert second.provider.chat_requests == 0


async def test_a_refused_key_is_marked_invalid_and_the_next_target_answers(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("unauthorized")
    answer = await chat_through(service, route)
    assert from_one_target(answer, first, second) is second
    report = report_of(answer)
    assert outcomes(report) == [(0, "KEY_REFUSED"), (1, "ANSWERED")]
    assert report.attempts[0].reason == "CREDENTIAL_REJECTED"
    stub = CredentialServiceStub(service.channel)
    reply = await stub.get_credential(
        GetCredentialRequest(id=first.credential_id), metadata=service.auth()
    )
    assert reply.credential is not None
    last_check = reply.credential.last_check
    assert last_check is not None and last_check.outcome == CheckOutcome.INVALID


async def test_when_every_target_fails_the_last_error_ends_the_call_with_every_attempt(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("server_error")
    await second.provider.kill()
    answer = await chat_through(service, route)
    failed_with(answer, grpc.StatusCode.UNAVAILABLE)
    assert answer.metadata()["route_attempts"] == "0:provider_error,1:unreachable"
    never_shows_a_key(answer, first, second)


async def test_a_request_names_a_credential_or_a_route_never_both_nor_neither(
    service: RunningService, first: Target
) -> None:
    route = await create_route(service, first.credential_id)
    stub = LlmServiceStub(service.channel)
    both = ChatRequest(credential_id=first.credential_id, route_id=route, messages=user_says())
    neither = ChatRequest(messages=user_says())
    for request, field in ((both, "route_id"), (neither, "credential_id")):
        answer = await collect(stub.chat(request, metadata=service.auth(), timeout=5))
        failed_with(answer, grpc.StatusCode.INVALID_ARGUMENT)
        assert answer.error is not None
        assert (answer.error.details() or "").startswith(f"{field}:")
    assert first.provider.chat_requests == 0


async def test_another_tenants_route_is_not_found(service: RunningService, first: Target) -> None:
    route = await create_route(service, first.credential_id)
    answer = await chat_through(service, route, organization_id="org-other")
    failed_with(answer, grpc.StatusCode.NOT_FOUND)
    assert first.provider.chat_requests == 0
