"""Readers of the fields telephony providers answer with: text, times, durations.

Providers write times three ways (Twilio RFC 2822, Vonage and Telnyx ISO 8601, Plivo
`YYYY-MM-DD HH:MM:SS+hh:mm`); a time without a zone is not guessed at and reads as None, as does
anything unreadable: a field the service cannot read is "not reported", never a failure.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from integration_api.errors import Unavailable
from integration_api.upstream.stream_errors import PROVIDER_BAD_RESPONSE

# Longest text kept from a provider's field (ids, numbers, statuses).
MAX_FIELD_CHARACTERS = 256


def object_at(body: object, *path: str) -> dict[str, object] | None:
    value = body
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else None


def text_of(value: object) -> str:
    """A string or number field as bounded text ('' when absent or of another type)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (str, int)):
        return str(value)[:MAX_FIELD_CHARACTERS]
    return ""


def required_id(body: dict[str, object] | None, name: str, provider: str) -> str:
    """The call id a provider must answer with, or UNAVAILABLE for an answer without one."""
    value = text_of(body.get(name)) if body is not None else ""
    if not value:
        raise Unavailable(
            f"{provider} answered without the call's {name}",
            reason=PROVIDER_BAD_RESPONSE,
            provider=provider,
        )
    return value


def iso_time(value: object) -> datetime | None:
    """An ISO 8601 time with a zone (`2026-01-05T10:00:00.000Z`, `…+05:30`, `… 10:00:00+05:30`)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def rfc2822_time(value: object) -> datetime | None:
    """An RFC 2822 time (`Tue, 31 Aug 2010 20:36:29 +0000`), as Twilio writes them."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def seconds_of(value: object) -> float | None:
    """A duration in whole or decimal seconds, as a number or a numeric string."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value) if isinstance(value, (int, float, str)) else None
    except ValueError:
        return None
    if seconds is None or not 0 <= seconds < 10**9:
        return None
    return seconds
