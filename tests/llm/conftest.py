"""One running service and one replay server per provider, shared by the chat tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.llm.upstreams import Upstream
from tests.support.provider_fixtures import all_upstreams, service
from tests.support.service import RunningService

# Settling time for tasks that end just after the call's status reached the caller.
_SETTLE_SECONDS = 2.0
# Long-lived by design: the gRPC server waiting for the next call, the replay servers holding
# pooled keep-alive connections of the shared provider client, and the credential-change
# listener's periodic wait (`asyncio.wait_for` runs it as a task of its own).
_EXPECTED_TASKS = (
    "AioServer._request_registered_call",
    "AioServer._request_call",
    "RequestHandler.start",
    "coro=<Event.wait()",
)


def unexpected_tasks(before: set[asyncio.Task[object]]) -> set[asyncio.Task[object]]:
    current = asyncio.all_tasks() - before - {asyncio.current_task()}
    return {task for task in current if not any(name in repr(task) for name in _EXPECTED_TASKS)}


@pytest.fixture
def llm(service: RunningService) -> LlmServiceStub:
    return LlmServiceStub(service.channel)


@pytest.fixture(autouse=True)
async def nothing_left_running(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After each test that calls upstream: no upstream stream open, no task left behind."""
    if "all_upstreams" not in request.fixturenames:
        yield
        return
    all_upstreams: dict[str, Upstream] = request.getfixturevalue("all_upstreams")
    for upstream in all_upstreams.values():
        upstream.reset()
    before = asyncio.all_tasks()
    yield
    for upstream in all_upstreams.values():
        async with asyncio.timeout(_SETTLE_SECONDS):
            await upstream.replay.wait_until_idle()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _SETTLE_SECONDS
    while True:
        leftover = unexpected_tasks(before)
        if not leftover or loop.time() > deadline:
            break
        await asyncio.sleep(0.01)
    assert not leftover, f"tasks left running: {[task.get_coro() for task in leftover]}"


__all__ = ["all_upstreams", "service"]
