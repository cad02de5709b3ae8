"""The call gate's rules, held by both implementations: in this process, and on Redis.

Redis runs for real (127.0.0.1:6379, a key prefix of the test's own); two `RedisCallGate`s stand
for two processes of a fleet.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest

from integration_api.cache.call_gate import RedisCallGate
from integration_api.cache.redis_client import create_redis_client
from integration_api.config import RedisSettings
from integration_api.credentials.call_gate import (
    CIRCUIT_OPEN,
    CREDENTIAL_RATE_LIMITED,
    CallGate,
    CallResult,
    GatePolicy,
    Permit,
)
from integration_api.credentials.local_gate import LocalCallGate, shared_limits
from integration_api.credentials.model import CredentialLimits
from integration_api.errors import ResourceExhausted, Unavailable

QUICK = GatePolicy(consecutive_failures=3, open_seconds=0.3, trial_seconds=5, min_calls=4)
NO_LIMITS = CredentialLimits()
GateFactory = Callable[[GatePolicy], CallGate]


@pytest.fixture
async def redis_gates(redis_prefix: str) -> AsyncIterator[Callable[[GatePolicy], RedisCallGate]]:
    made: list[RedisCallGate] = []

    def make(policy: GatePolicy) -> RedisCallGate:
        client = create_redis_client(RedisSettings(host="127.0.0.1"))
        made.append(RedisCallGate(client, redis_prefix, policy=policy))
        return made[-1]

    yield make
    for gate in made:
        await gate.close()


@pytest.fixture(params=["local", "redis"])
def make_gate(
    request: pytest.FixtureRequest, redis_gates: Callable[[GatePolicy], RedisCallGate]
) -> GateFactory:
    if request.param == "local":
        return lambda policy: LocalCallGate(policy)
    return redis_gates


async def _calls(gate: CallGate, credential: str, limits: CredentialLimits, count: int) -> int:
    admitted = 0
    for _ in range(count):
        try:
            permit = await gate.acquire(credential, limits)
        except ResourceExhausted:
            continue
        admitted += 1
        await gate.release(permit, CallResult("success"))
    return admitted


async def test_requests_per_minute_admit_the_limit_and_say_when_to_come_back(
    make_gate: GateFactory,
) -> None:
    gate = make_gate(QUICK)
    limits = CredentialLimits(requests_per_minute=5)
    assert await _calls(gate, "c-rpm", limits, 5) == 5
    with pytest.raises(ResourceExhausted) as refused:
        await gate.acquire("c-rpm", limits)
    assert refused.value.reason == CREDENTIAL_RATE_LIMITED
    assert refused.value.retry_after_seconds is not None
    assert 55 < refused.value.retry_after_seconds <= 60
    assert await _calls(gate, "c-other", limits, 1) == 1  # counted per credential


async def test_tokens_per_minute_are_counted_from_reported_usage(make_gate: GateFactory) -> None:
    gate = make_gate(QUICK)
    limits = CredentialLimits(tokens_per_minute=100)
    for _ in range(2):
        permit = await gate.acquire("c-tpm", limits)
        await gate.release(permit, CallResult("success", tokens=50))
    with pytest.raises(ResourceExhausted) as refused:
        await gate.acquire("c-tpm", limits)
    assert refused.value.reason == CREDENTIAL_RATE_LIMITED
    assert 0 < (refused.value.retry_after_seconds or 0) <= 61


async def test_concurrent_calls_are_held_until_released(make_gate: GateFactory) -> None:
    gate = make_gate(QUICK)
    limits = CredentialLimits(concurrent_calls=2)
    held = [await gate.acquire("c-conc", limits) for _ in range(2)]
    with pytest.raises(ResourceExhausted):
        await gate.acquire("c-conc", limits)
    await gate.release(held[0], CallResult("neutral"))
    await gate.release(await gate.acquire("c-conc", limits), CallResult("success"))
    await gate.release(held[1], CallResult("success"))


async def test_a_providers_pause_refuses_until_it_ends(make_gate: GateFactory) -> None:
    gate = make_gate(QUICK)
    permit = await gate.acquire("c-pause", NO_LIMITS)
    await gate.release(permit, CallResult("neutral", pause_seconds=0.4))
    with pytest.raises(ResourceExhausted) as refused:
        await gate.acquire("c-pause", NO_LIMITS)
    assert 0 < (refused.value.retry_after_seconds or 0) <= 0.4
    await asyncio.sleep(0.45)
    await gate.release(await gate.acquire("c-pause", NO_LIMITS), CallResult("success"))


async def _fail(gate: CallGate, credential: str, times: int) -> None:
    for _ in range(times):
        permit = await gate.acquire(credential, NO_LIMITS)
        await gate.release(permit, CallResult("failure"))


async def test_consecutive_failures_open_the_breaker_then_one_trial_closes_it(
    make_gate: GateFactory,
) -> None:
    gate = make_gate(QUICK)
    await _fail(gate, "c-breaker", 3)
    with pytest.raises(Unavailable) as refused:
        await gate.acquire("c-breaker", NO_LIMITS)
    assert refused.value.reason == CIRCUIT_OPEN
    assert 0 < (refused.value.retry_after_seconds or 0) <= 0.3
    assert await gate.breaker_states(["c-breaker", "c-fine"]) == {"c-breaker": "open"}
    await asyncio.sleep(0.35)
    assert await gate.breaker_states(["c-breaker"]) == {"c-breaker": "half_open"}
    trial = await gate.acquire("c-breaker", NO_LIMITS)
    assert trial.trial
    with pytest.raises(Unavailable):  # one trial at a time
        await gate.acquire("c-breaker", NO_LIMITS)
    await gate.release(trial, CallResult("success"))
    assert await gate.breaker_states(["c-breaker"]) == {}
    await gate.release(await gate.acquire("c-breaker", NO_LIMITS), CallResult("success"))


async def test_a_failed_trial_opens_the_breaker_again(make_gate: GateFactory) -> None:
    gate = make_gate(QUICK)
    await _fail(gate, "c-trial", 3)
    await asyncio.sleep(0.35)
    trial = await gate.acquire("c-trial", NO_LIMITS)
    await gate.release(trial, CallResult("failure"))
    with pytest.raises(Unavailable):
        await gate.acquire("c-trial", NO_LIMITS)


async def test_an_error_ratio_over_the_window_opens_the_breaker(make_gate: GateFactory) -> None:
    gate = make_gate(QUICK)
    for verdict in ("failure", "success", "failure", "success", "failure"):
        permit = await gate.acquire("c-ratio", NO_LIMITS)
        await gate.release(permit, CallResult(verdict))
    with pytest.raises(Unavailable):
        await gate.acquire("c-ratio", NO_LIMITS)


async def test_successes_and_neutral_outcomes_keep_the_breaker_closed(
    make_gate: GateFactory,
) -> None:
    gate = make_gate(GatePolicy(consecutive_failures=3, min_calls=20))
    for verdict in ("failure", "failure", "success", "failure", "failure", "neutral"):
        permit = await gate.acquire("c-mixed", NO_LIMITS)
        await gate.release(permit, CallResult(verdict))
    await gate.release(await gate.acquire("c-mixed", NO_LIMITS), CallResult("success"))


async def test_with_the_breaker_off_failures_never_refuse(make_gate: GateFactory) -> None:
    gate = make_gate(GatePolicy(consecutive_failures=0, max_pause_seconds=0))
    await _fail(gate, "c-off", 10)
    permit = await gate.acquire("c-off", NO_LIMITS)
    await gate.release(permit, CallResult("neutral", pause_seconds=30))
    await gate.release(await gate.acquire("c-off", NO_LIMITS), CallResult("success"))


async def test_two_processes_on_redis_share_limits_pauses_and_breakers(
    redis_gates: Callable[[GatePolicy], RedisCallGate],
) -> None:
    first, second = redis_gates(QUICK), redis_gates(QUICK)
    limits = CredentialLimits(requests_per_minute=10)
    admitted = await asyncio.gather(
        _calls(first, "c-fleet", limits, 10), _calls(second, "c-fleet", limits, 10)
    )
    assert sum(admitted) == 10
    await _fail(first, "c-fleet-breaker", 3)
    with pytest.raises(Unavailable):
        await second.acquire("c-fleet-breaker", NO_LIMITS)
    permit = await second.acquire("c-fleet-pause", NO_LIMITS)
    await second.release(permit, CallResult("neutral", pause_seconds=5))
    with pytest.raises(ResourceExhausted):
        await first.acquire("c-fleet-pause", NO_LIMITS)


async def test_a_process_that_died_holding_permits_frees_them_when_their_lease_ends(
    redis_prefix: str,
) -> None:
    settings = RedisSettings(host="127.0.0.1")
    limits = CredentialLimits(concurrent_calls=1)
    crashed = RedisCallGate(create_redis_client(settings), redis_prefix, lease_seconds=0.3)
    await crashed.acquire("c-lease", limits)
    await crashed.close()  # never released
    survivor = RedisCallGate(create_redis_client(settings), redis_prefix, lease_seconds=0.3)
    try:
        with pytest.raises(ResourceExhausted):
            await survivor.acquire("c-lease", limits)
        await asyncio.sleep(0.35)
        await survivor.release(await survivor.acquire("c-lease", limits), CallResult("success"))
    finally:
        await survivor.close()


async def test_permits_held_longer_than_their_lease_are_renewed(redis_prefix: str) -> None:
    gate = RedisCallGate(
        create_redis_client(RedisSettings(host="127.0.0.1")), redis_prefix, lease_seconds=0.3
    )
    try:
        limits = CredentialLimits(concurrent_calls=2)
        held = [await gate.acquire("c-renew", limits) for _ in range(2)]
        await asyncio.sleep(0.8)  # past two leases: only the renewals keep them
        with pytest.raises(ResourceExhausted):
            await gate.acquire("c-renew", limits)
        for permit in held:
            await gate.release(permit, CallResult("success"))
        await gate.release(await gate.acquire("c-renew", limits), CallResult("success"))
    finally:
        await gate.close()


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_with_redis_down_each_process_keeps_its_share_of_the_limits() -> None:
    dead = RedisSettings(host="127.0.0.1", port=_unused_port())
    gate = RedisCallGate(create_redis_client(dead), "itest:", share=2)
    try:
        limits = CredentialLimits(requests_per_minute=10)
        assert await _calls(gate, "c-down", limits, 10) == 5
        permit = await gate.acquire("c-down-2", NO_LIMITS)
        assert permit.local
        await gate.release(permit, CallResult("success"))
        assert await gate.breaker_states(["c-down"]) == {}
    finally:
        await gate.close()


def test_a_share_never_rounds_a_set_limit_down_to_none() -> None:
    share = shared_limits(CredentialLimits(requests_per_minute=10, concurrent_calls=1), 4)
    assert share == CredentialLimits(requests_per_minute=2, concurrent_calls=1)


async def test_a_permit_given_back_twice_or_unknown_is_harmless(make_gate: GateFactory) -> None:
    gate = make_gate(QUICK)
    permit = await gate.acquire("c-twice", CredentialLimits(concurrent_calls=1))
    await gate.release(permit, CallResult("success"))
    await gate.release(permit, CallResult("success"))
    await gate.release(Permit("c-unknown", "nope"), CallResult("neutral"))
