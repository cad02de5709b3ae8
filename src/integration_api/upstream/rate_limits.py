"""What a provider's answer says about its rate limits, and how it reaches the call gate.

Providers say when a key may be used again in their headers: `Retry-After` (seconds or an HTTP
date) and `retry-after-ms` on a 429; OpenAI and Azure `x-ratelimit-remaining-requests|tokens` with
`x-ratelimit-reset-requests|tokens` (durations such as `6m0s`, `120ms`); Anthropic
`anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-remaining|reset` (RFC 3339
instants); Telnyx, Replicate and the IETF draft `x-ratelimit-remaining|reset` and
`ratelimit-remaining|reset` (seconds). A window whose remaining count is 0 pauses the credential
until that window resets; a 429 pauses it for what the provider asked (or the longest reset it
named, or `DEFAULT_RATE_LIMITED_PAUSE`).

The transport (`providers.transport`) reports every answer's status and headers with
`note_answer`; the call gate (`credentials.call_gate`) watches one provider request with
`watch()`. Both meet here, below the domain and the providers, through a context variable, so
neither imports the other and no adapter signature changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A 429 that names no reset still pauses the key briefly, fleet-wide: every process retrying at
# once is what keeps a provider refusing.
DEFAULT_RATE_LIMITED_PAUSE = 1.0
# No pause is longer: a misread or hostile header must not take a key out of service for hours.
MAX_PAUSE_SECONDS = 600.0

_WINDOWS = ("requests", "tokens", "input-tokens", "output-tokens")
# (remaining header, reset header) pairs, most specific first.
_PAIRS: tuple[tuple[str, str], ...] = (
    *((f"x-ratelimit-remaining-{w}", f"x-ratelimit-reset-{w}") for w in _WINDOWS),
    *((f"anthropic-ratelimit-{w}-remaining", f"anthropic-ratelimit-{w}-reset") for w in _WINDOWS),
    ("x-ratelimit-remaining", "x-ratelimit-reset"),
    ("ratelimit-remaining", "ratelimit-reset"),
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
# Above this a bare number is a Unix time, not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


def pause_from_answer(status: int, headers: Mapping[str, str]) -> float | None:
    """Seconds the credential should not be used for after this answer (None: no pause)."""
    exhausted: list[float] = []
    for remaining_header, reset_header in _PAIRS:
        if _number(headers.get(remaining_header)) == 0:
            reset = reset_seconds(headers.get(reset_header))
            if reset is not None:
                exhausted.append(reset)
    if status == 429:
        asked = retry_after(headers)
        pause = asked if asked is not None else max(exhausted, default=DEFAULT_RATE_LIMITED_PAUSE)
    elif exhausted:
        pause = max(exhausted)
    else:
        return None
    return min(max(pause, 0.0), MAX_PAUSE_SECONDS) or None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, else `Retry-After` (seconds or an HTTP date)."""
    milliseconds = _number(headers.get("retry-after-ms"))
    if milliseconds is not None and milliseconds >= 0:
        return milliseconds / 1000
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds if seconds >= 0 else None
    return _until(_http_date(value))


def reset_seconds(value: str | None) -> float | None:
    """A reset header as seconds from now: a duration (`1m30s`, `120ms`), a number of seconds
    (or a Unix time), an RFC 3339 instant or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    seconds = _number(value)
    if seconds is not None:
        if seconds > _EPOCH_THRESHOLD:
            return max(0.0, seconds - datetime.now(UTC).timestamp())
        return seconds if seconds >= 0 else None
    if _DURATION_PART.fullmatch(value) or _is_duration(value):
        return _duration(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return _until(_http_date(value))
    return _until(moment)


def _is_duration(value: str) -> bool:
    return bool(value) and _DURATION_PART.sub("", value) == "" and value[0].isdigit()


def _duration(value: str) -> float:
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(amount) * scale[unit] for amount, unit in _DURATION_PART.findall(value))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def _http_date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _until(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


class AnswerWatch:
    """The longest pause the answers of one provider request asked for."""

    __slots__ = ("pause_seconds",)

    def __init__(self) -> None:
        self.pause_seconds: float | None = None

    def note(self, status: int, headers: Mapping[str, str]) -> None:
        pause = pause_from_answer(status, headers)
        if pause is not None and (self.pause_seconds is None or pause > self.pause_seconds):
            self.pause_seconds = pause


_watch: ContextVar[AnswerWatch | None] = ContextVar("integration_api_answer_watch", default=None)


def watch() -> AnswerWatch:
    """Starts watching the provider answers of the current task (and the tasks it starts)."""
    current = AnswerWatch()
    _watch.set(current)
    return current


def note_answer(status: int, headers: Mapping[str, str]) -> None:
    """Called by the transport with every provider answer's status and headers."""
    current = _watch.get()
    if current is not None:
        current.note(status, headers)
