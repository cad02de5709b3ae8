"""Event-stream framing: lines end with CRLF, LF or CR wherever the pieces of the body are cut."""

from __future__ import annotations

import pytest

from integration_api.errors import Unavailable
from integration_api.providers.sse import BoundedEventDecoder
from integration_api.upstream.limits import (
    SSE_EVENT_TOO_LARGE,
    SSE_LINE_TOO_LARGE,
    UpstreamLimits,
)

BODY = b"data: a\r\ndata: b\r\n\r\n: keep-alive\n\nevent: e\rdata: c\r\rid: 7\ndata: tail"
EXPECTED = [("message", "a\nb", ""), ("e", "c", "")]


def decode(pieces: list[bytes], limits: UpstreamLimits | None = None) -> list[tuple[str, ...]]:
    decoder = BoundedEventDecoder("p", limits or UpstreamLimits())
    events = [event for piece in pieces for event in decoder.feed(piece)]
    events.extend(decoder.flush())
    return [(event.event, event.data, event.id) for event in events]


@pytest.mark.parametrize("cut", range(1, len(BODY)))
def test_events_are_the_same_wherever_the_body_is_cut(cut: int) -> None:
    assert decode([BODY[:cut], BODY[cut:]]) == EXPECTED


def test_events_are_the_same_when_the_body_arrives_byte_by_byte() -> None:
    assert decode([BODY[position : position + 1] for position in range(len(BODY))]) == EXPECTED


def test_an_event_ended_by_the_body_ending_after_a_blank_line_is_kept() -> None:
    assert decode([b"data: last\n\r"]) == [("message", "last", "")]


@pytest.mark.parametrize(
    ("pieces", "reason"),
    [
        ([b"data: " + b"x" * 40, b"x" * 40], SSE_LINE_TOO_LARGE),
        ([b"data: " + b"x" * 100 + b"\n"], SSE_LINE_TOO_LARGE),
        ([b"data: 0123456789\n" * 20], SSE_EVENT_TOO_LARGE),
    ],
    ids=["unfinished line", "finished line", "event of many lines"],
)
def test_a_line_or_event_past_its_bound_is_refused(pieces: list[bytes], reason: str) -> None:
    limits = UpstreamLimits(max_sse_line_bytes=64, max_sse_event_bytes=256)
    with pytest.raises(Unavailable) as raised:
        decode(pieces, limits)
    assert raised.value.reason == reason
    assert "x" * 8 not in raised.value.message
