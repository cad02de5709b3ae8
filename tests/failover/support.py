"""Stored keys for the fake providers, routes over them, and calls through the real service."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

import grpc
from integration_api_proto.integration.v1 import (
    ChatRequest,
    CreateRouteRequest,
    RoutePolicy,
    RouteReport,
    RouteTarget,
)
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub, RouteServiceStub

from tests.failover.flaky_provider import FlakyProvider
from tests.llm.support import Answer, collect, user_says
from tests.llm.upstreams import store_credential
from tests.support.service import RunningService

MODEL = "gpt-flaky"


@dataclass
class Target:
    """A fake provider, the stored credential pointing at it, and that credential's key."""

    provider: FlakyProvider
    credential_id: str
    key: str

    @property
    def name(self) -> str:
        return self.provider.name


async def store_key(service: RunningService, provider: FlakyProvider, **tenant: str) -> Target:
    key = "sk-canary-" + secrets.token_urlsafe(24)
    credential_id = await store_credential(
        service, "openai", provider.base_url, key, MODEL, None, **tenant
    )
    return Target(provider, credential_id, key)


async def create_route(
    service: RunningService,
    *credential_ids: str,
    policy: RoutePolicy = RoutePolicy.FAILOVER,
    first_token_timeout: float | None = None,
    weights: tuple[int, ...] = (),
    **tenant: str,
) -> str:
    timeout = (
        None if first_token_timeout is None else datetime.timedelta(seconds=first_token_timeout)
    )
    reply = await RouteServiceStub(service.channel).create_route(
        CreateRouteRequest(
            name=f"route-{secrets.token_hex(4)}",
            policy=policy,
            targets=[
                RouteTarget(credential_id=credential_id, weight=weights[index] if weights else 0)
                for index, credential_id in enumerate(credential_ids)
            ],
            first_token_timeout=timeout,
        ),
        metadata=service.auth(**tenant),
    )
    assert reply.route is not None
    return reply.route.id


async def chat_through(
    service: RunningService, route_id: str, *, deadline_seconds: float = 10.0, **tenant: str
) -> Answer:
    stub = LlmServiceStub(service.channel)
    request = ChatRequest(route_id=route_id, messages=user_says())
    return await collect(
        stub.chat(request, metadata=service.auth(**tenant), timeout=deadline_seconds)
    )


def report_of(answer: Answer) -> RouteReport:
    assert answer.error is None, f"the call failed: {answer.error}"
    (finish,) = answer.finishes
    assert finish.route is not None, "a routed answer carries its route report"
    return finish.route


def outcomes(report: RouteReport) -> list[tuple[int, str]]:
    return [(attempt.target_index, attempt.outcome.name) for attempt in report.attempts]


def from_one_target(answer: Answer, *targets: Target) -> Target:
    """The one target whose text the whole answer is (fails on text from two, or from none)."""
    for target in targets:
        if answer.text == "".join(target.provider.text_pieces()):
            return target
    raise AssertionError(f"the answer is no one target's whole text: {answer.text!r}")


def never_shows_a_key(answer: Answer, *targets: Target) -> None:
    seen = repr(answer.chunks) + (str(answer.error.details()) if answer.error else "")
    for target in targets:
        assert target.key not in seen


def failed_with(answer: Answer, code: grpc.StatusCode) -> None:
    assert answer.error is not None and answer.error.code() == code, answer.error
