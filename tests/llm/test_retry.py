"""When a failed provider call is tried again, and for how long the service waits."""

from __future__ import annotations

import pytest

from integration_api.errors import FailedPrecondition, ResourceExhausted, Unavailable
from integration_api.llm.retry import RetryPolicy

POLICY = RetryPolicy(max_attempts=3, base_delay_seconds=0.2, max_delay_seconds=1.0)


def test_an_error_that_cannot_improve_is_not_retried() -> None:
    assert POLICY.delay_before_retry(FailedPrecondition("bad key"), 1, None) is None


def test_retries_stop_after_the_last_attempt() -> None:
    assert POLICY.delay_before_retry(Unavailable("5xx"), 2, None) is not None
    assert POLICY.delay_before_retry(Unavailable("5xx"), 3, None) is None


@pytest.mark.parametrize("attempts_made", [1, 2, 3, 4, 8])
def test_backoff_is_jittered_and_bounded(attempts_made: int) -> None:
    ceiling = min(1.0, 0.2 * 2 ** (attempts_made - 1))
    delays = {POLICY.backoff(attempts_made) for _ in range(50)}
    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(delays) > 1


def test_the_providers_retry_after_is_honoured_up_to_the_cap() -> None:
    asked = ResourceExhausted("429", retry_after_seconds=3.0)
    assert POLICY.delay_before_retry(asked, 1, None) == 3.0
    too_long = ResourceExhausted("429", retry_after_seconds=POLICY.max_retry_after_seconds + 1)
    assert POLICY.delay_before_retry(too_long, 1, None) is None


def test_no_retry_that_would_outlive_the_callers_deadline() -> None:
    assert (
        POLICY.delay_before_retry(ResourceExhausted("429", retry_after_seconds=2), 1, 1.5) is None
    )
    assert POLICY.delay_before_retry(Unavailable("5xx"), 1, 0.05) is None


def test_a_spent_quota_is_not_retried() -> None:
    quota = ResourceExhausted("quota", reason="QUOTA_EXHAUSTED")
    quota.retryable = False
    assert POLICY.delay_before_retry(quota, 1, None) is None


def test_giving_up_on_a_rate_limit_always_says_when_to_come_back() -> None:
    error = POLICY.give_up(ResourceExhausted("429"), 3)
    assert isinstance(error, ResourceExhausted)
    assert error.retry_after_seconds is not None and error.retry_after_seconds > 0
    assert error.metadata["attempts"] == "3"
