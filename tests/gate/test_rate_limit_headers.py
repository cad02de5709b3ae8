"""Providers' rate-limit headers become a pause of the credential until the window resets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from integration_api.upstream.rate_limits import (
    DEFAULT_RATE_LIMITED_PAUSE,
    MAX_PAUSE_SECONDS,
    pause_from_answer,
    reset_seconds,
)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("6m0s", 360.0), ("120ms", 0.12), ("1h2m3.5s", 3723.5), ("0s", 0.0), ("17", 17.0)],
)
def test_reset_durations_as_openai_and_telnyx_send_them(value: str, seconds: float) -> None:
    assert reset_seconds(value) == pytest.approx(seconds)


def test_an_rfc_3339_reset_as_anthropic_sends_it_counts_from_now() -> None:
    moment = (datetime.now(UTC) + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    assert reset_seconds(moment) == pytest.approx(30, abs=1)


def test_a_unix_time_reset_counts_from_now() -> None:
    assert reset_seconds(str(int(datetime.now(UTC).timestamp()) + 20)) == pytest.approx(20, abs=1)


def test_a_spent_openai_request_window_pauses_until_its_reset_even_on_a_good_answer() -> None:
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m30s"}
    assert pause_from_answer(200, headers) == pytest.approx(90)


def test_windows_with_requests_left_do_not_pause() -> None:
    headers = {
        "x-ratelimit-remaining-requests": "12",
        "x-ratelimit-reset-requests": "1s",
        "anthropic-ratelimit-tokens-remaining": "5000",
        "anthropic-ratelimit-tokens-reset": "2030-01-01T00:00:00Z",
    }
    assert pause_from_answer(200, headers) is None


def test_a_429_follows_retry_after_in_seconds_milliseconds_or_as_a_date() -> None:
    assert pause_from_answer(429, {"retry-after": "7"}) == 7
    assert pause_from_answer(429, {"retry-after-ms": "250"}) == pytest.approx(0.25)
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=40), usegmt=True)
    assert pause_from_answer(429, {"retry-after": later}) == pytest.approx(40, abs=1.5)


def test_a_429_without_retry_after_takes_the_longest_spent_window_or_a_short_default() -> None:
    headers = {
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": (datetime.now(UTC) + timedelta(seconds=12))
        .isoformat()
        .replace("+00:00", "Z"),
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "3",
    }
    assert pause_from_answer(429, headers) == pytest.approx(12, abs=1)
    assert pause_from_answer(429, {}) == DEFAULT_RATE_LIMITED_PAUSE


def test_no_header_pauses_a_credential_for_hours() -> None:
    assert pause_from_answer(429, {"retry-after": "86400"}) == MAX_PAUSE_SECONDS


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf", ""])
def test_unreadable_values_are_ignored(value: str) -> None:
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": value}
    assert pause_from_answer(200, headers) is None
