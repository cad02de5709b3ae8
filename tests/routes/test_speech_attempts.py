"""Whether a routed speech call moves on from an attempt, and in which order it tries targets."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.routes.model import CIRCUIT_OPEN, CREDENTIAL_RATE_LIMITED, Route, RouteTarget
from integration_api.routes.speech_attempts import (
    MOVES_ON,
    first_content_timeout,
    ordered_targets,
    outcome_of,
)


def with_metadata(error: ServiceError, **metadata: str) -> ServiceError:
    error.metadata.update(metadata)
    return error


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (ResourceExhausted("at its limit", reason=CREDENTIAL_RATE_LIMITED), "skipped_rate_limited"),
        (Unavailable("breaker open", reason=CIRCUIT_OPEN), "skipped_breaker_open"),
        (FailedPrecondition("disabled", reason="CREDENTIAL_DISABLED"), "skipped_unavailable"),
        (FailedPrecondition("no tts", reason="CAPABILITY_NOT_SUPPORTED"), "skipped_unavailable"),
        (NotFound("credential gone"), "skipped_unavailable"),
        (FailedPrecondition("refused", reason="CREDENTIAL_REJECTED"), "key_refused"),
        (ResourceExhausted("429", provider="deepgram"), "rate_limited"),
        (ResourceExhausted("quota", reason="QUOTA_EXHAUSTED"), "rate_limited"),
        (
            with_metadata(Unavailable("refused"), transport_failure="connection_refused"),
            "unreachable",
        ),
        (
            with_metadata(DeadlineExceeded("silent"), transport_failure="read_timeout"),
            "unreachable",
        ),
        (Unavailable("503", provider="deepgram"), "provider_error"),
        (Unavailable("truncated", reason="STREAM_TRUNCATED"), "provider_error"),
        (first_content_timeout(0, 1.5), "first_token_timeout"),
    ],
)
def test_a_call_moves_on_from(error: ServiceError, outcome: str) -> None:
    assert outcome_of(error) == outcome and outcome in MOVES_ON


@pytest.mark.parametrize(
    "error",
    [
        InvalidArgument.for_field("config.audio", "no such rate"),
        FailedPrecondition("content", reason="PROVIDER_REJECTED_REQUEST"),
        with_metadata(NotFound("no such voice"), provider_http_status="404"),
        ResourceExhausted("sessions", reason="SPEECH_SESSION_LIMIT"),
        ResourceExhausted("audio", reason="SPEECH_AUDIO_LIMIT"),
        ResourceExhausted("calls", reason="TENANT_CONCURRENT_CALL_LIMIT"),
        DeadlineExceeded("the caller's own deadline"),
    ],
)
def test_a_call_ends_on(error: ServiceError) -> None:
    assert outcome_of(error) == "failed"


def route(policy: str, weights: list[int]) -> Route:
    now = datetime.now(UTC)
    return Route(
        id="r",
        tenant_id="t",
        name="n",
        policy=policy,  # type: ignore[arg-type]
        targets=tuple(RouteTarget(f"c{i}", weight=w) for i, w in enumerate(weights)),
        first_token_timeout=None,
        created_at=now,
        updated_at=now,
        created_by="u",
        version=1,
    )


def test_failover_tries_the_targets_in_order() -> None:
    assert [i for i, _ in ordered_targets(route("failover", [1, 9, 1]))] == [0, 1, 2]


def test_balance_draws_the_first_by_weight_then_keeps_the_routes_order() -> None:
    chooser = random.Random(7)
    firsts = [next(ordered_targets(route("balance", [1, 3]), chooser))[0] for _ in range(4000)]
    assert 0.7 < firsts.count(1) / len(firsts) < 0.8
    for _ in range(20):
        order = [i for i, _ in ordered_targets(route("balance", [1, 1, 1]), chooser)]
        rest = order[1:]
        assert rest == sorted(rest) and sorted(order) == [0, 1, 2]
