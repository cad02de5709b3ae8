"""What every value of a provider's answer must be before it goes into a response.

Every provider's answer is normalized into the contract types (chat parts, embeddings, rerank
answers, speech events), and every one of those passes through its pipeline, which knows the
provider, before it is converted to a message. `check_answer` runs there, once for all
providers: a number must be finite and fit its response field (`_FIELDS`, which follows the
types in `proto/integration/v1/`), a string must hold no NUL and be valid Unicode (a lone
surrogate from a JSON `\\ud800` cannot be encoded). Anything else ends the call with
`UNAVAILABLE`/`PROVIDER_BAD_RESPONSE` naming the field, never the value: otherwise the converter
or the serializer would fail on it (INTERNAL, or UNKNOWN when the serializer raises).
"""

from __future__ import annotations

import array
import dataclasses
import enum
import functools
import math
import sys
import typing
from collections.abc import Callable

from integration_api.errors import Unavailable
from integration_api.upstream.stream_errors import PROVIDER_BAD_RESPONSE

INT32_MAX = 2**31 - 1
UINT64_MAX = 2**64 - 1
FLOAT32_MAX = 3.4028234663852886e38
# `google.protobuf.Duration` spans ±10,000 years.
DURATION_MAX_SECONDS = 315_576_000_000


def _whole(low: int, high: int) -> Callable[[object], bool]:
    def fits(value: object) -> bool:
        return isinstance(value, int) and low <= value <= high

    return fits


def _real(limit: float) -> Callable[[object], bool]:
    def fits(value: object) -> bool:
        if isinstance(value, int):
            return -limit <= value <= limit
        return isinstance(value, float) and math.isfinite(value) and -limit <= value <= limit

    return fits


COUNT = _whole(0, INT32_MAX)  # int32 counts and indexes: never negative
UINT64 = _whole(0, UINT64_MAX)
INT64 = _whole(-(2**63), 2**63 - 1)
FLOAT32 = _real(FLOAT32_MAX)
DOUBLE = _real(sys.float_info.max)
SECONDS = _real(DURATION_MAX_SECONDS)

# Per contract type, the response field type of each number it carries.
_FIELDS: dict[str, dict[str, Callable[[object], bool]]] = {
    "Usage": {
        "input_tokens": COUNT,
        "output_tokens": COUNT,
        "cached_input_tokens": COUNT,
        "cache_write_input_tokens": COUNT,
        "reasoning_tokens": COUNT,
    },
    "ToolCall": {"index": COUNT},
    "Timing": {"time_to_first_token": SECONDS, "gateway_overhead": SECONDS, "total": SECONDS},
    "EmbedResult": {"vectors": FLOAT32},
    "RankedDocument": {"index": COUNT, "relevance_score": DOUBLE},
    "RerankAnswer": {"search_units": COUNT},
    "Word": {"start": SECONDS, "end": SECONDS, "confidence": FLOAT32},
    "Transcript": {"start": SECONDS, "end": SECONDS, "confidence": FLOAT32},
    "SpeechStarted": {"at": SECONDS},
    "UtteranceEnd": {"last_word_end": SECONDS},
    "TranscriptionMetadata": {"audio_duration": SECONDS, "audio_bytes": UINT64},
    "AlignedText": {"start": SECONDS, "end": SECONDS},
    "SynthesisDone": {
        "characters": UINT64,
        "audio_bytes": UINT64,
        "time_to_first_audio": SECONDS,
        "duration": SECONDS,
    },
}


def numeric_fields() -> dict[str, dict[str, Callable[[object], bool]]]:
    """The bounds table, for the test that keeps it in step with the contract types."""
    return _FIELDS


class _Refused(Exception):
    """A value no response may carry; `path` grows from the field outwards as it is raised."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
        self.path = ""

    def within(self, segment: str) -> _Refused:
        self.path = segment + self.path
        return self


def check_answer(value: object, provider: str) -> None:
    """Refuse a contract value from `provider` that no response may carry.

    Raises:
        Unavailable: `PROVIDER_BAD_RESPONSE`, naming the field (e.g. `Word.confidence`).
    """
    try:
        _check_object(value)
    except _Refused as refused:
        path = type(value).__name__ + refused.path
        raise Unavailable(
            f"{provider} answered with {refused.what} in {path}",
            reason=PROVIDER_BAD_RESPONSE,
            provider=provider,
        ) from None


@functools.cache
def _field_bounds(kind: type) -> tuple[tuple[str, Callable[[object], bool] | None], ...]:
    """Each field of a contract type with its bound (none for a type that is no dataclass)."""
    if not dataclasses.is_dataclass(kind):
        return ()
    bounds = _FIELDS.get(kind.__name__, {})
    return tuple((item.name, bounds.get(item.name)) for item in dataclasses.fields(kind))


def _check_object(value: object) -> None:
    # Runs for every part of every stream: the path is only spelt out for a refusal.
    kind: type = type(value)
    for name, fits in _field_bounds(kind):
        field = getattr(value, name)
        try:
            if type(field) is str:
                _check_text(field)
            else:
                _check_value(field, fits)
        except _Refused as refused:
            raise refused.within("." + name) from None


def _check_value(value: object, fits: Callable[[object], bool] | None) -> None:
    if value is None or isinstance(value, (bool, bytes, enum.Enum)):
        return
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, (int, float)):
        # A number the table does not name is held to the widest field of its kind.
        default = DOUBLE if isinstance(value, float) else INT64
        if not (fits or default)(value):
            raise _Refused("a number out of range")
    elif isinstance(value, (list, tuple)):
        _check_items(value, fits)
    else:
        _check_object(value)


def _check_items(
    items: list[object] | tuple[object, ...], fits: Callable[[object], bool] | None
) -> None:
    bound = _REAL_BOUNDS.get(fits) if fits is not None else None
    if bound is not None and _all_within(items, bound):
        return  # a vector of thousands of floats, checked in C; item by item only when off
    for position, item in enumerate(items):
        try:
            _check_value(item, fits)
        except _Refused as refused:
            raise refused.within(f"[{position}]") from None


_REAL_BOUNDS = {FLOAT32: FLOAT32_MAX, DOUBLE: sys.float_info.max, SECONDS: DURATION_MAX_SECONDS}


def _all_within(items: list[object] | tuple[object, ...], bound: float) -> bool:
    try:
        values = array.array("d", typing.cast("list[float]", items))
    except (TypeError, OverflowError):
        return False
    if not values:
        return True
    return all(map(math.isfinite, values)) and -bound <= min(values) and max(values) <= bound


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise _Refused("a NUL character")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _Refused("text that is not valid Unicode") from None
