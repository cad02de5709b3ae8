"""The URL rules of a production process: the provider is only ever pointed at encrypted URLs."""

from __future__ import annotations

import pytest

from integration_api.errors import InvalidArgument
from integration_api.telephony.call_rules import CallRules
from integration_api.telephony.calls import (
    CallEvent,
    InstructionsUrl,
    MediaStream,
    PlaceCall,
    Redirect,
)

PRODUCTION = CallRules(production=True)
DEVELOPMENT = CallRules(production=False)


def _call(answer: InstructionsUrl | MediaStream, callback: str = "") -> PlaceCall:
    return PlaceCall("+15005550006", "+14155550123", answer, status_callback_url=callback)


@pytest.mark.parametrize(
    "call",
    [
        _call(InstructionsUrl("http://app.example.com/answer")),
        _call(MediaStream("ws://agent.example.com/media")),
        _call(MediaStream("https://agent.example.com/media")),
        _call(InstructionsUrl("wss://app.example.com/answer")),
        _call(InstructionsUrl("https://app.example.com/a"), "http://app.example.com/events"),
    ],
)
def test_production_refuses_unencrypted_or_mismatched_schemes(call: PlaceCall) -> None:
    with pytest.raises(InvalidArgument):
        PRODUCTION.check_place(call)


def test_production_accepts_https_pages_and_wss_streams() -> None:
    PRODUCTION.check_place(
        _call(MediaStream("wss://agent.example.com/media"), "https://app.example.com/events")
    )
    PRODUCTION.check_change(Redirect(InstructionsUrl("https://app.example.com/next")))


def test_a_redirect_is_held_to_the_same_rules() -> None:
    with pytest.raises(InvalidArgument) as refused:
        PRODUCTION.check_change(Redirect(MediaStream("ws://agent.example.com/media")))
    assert refused.value.violations[0].field == "redirect.media_stream.url"
    DEVELOPMENT.check_change(Redirect(MediaStream("ws://agent.example.com/media")))


@pytest.mark.parametrize(
    "parameters",
    [
        {f"p{index}": "v" for index in range(33)},
        {"big": "x" * 5000},
        {"": "empty name"},
    ],
)
def test_stream_parameters_are_bounded(parameters: dict[str, str]) -> None:
    with pytest.raises(InvalidArgument):
        DEVELOPMENT.check_place(_call(MediaStream("wss://agent.example.com/m", parameters)))


def test_callback_events_without_a_callback_url_are_refused() -> None:
    call = PlaceCall(
        "+15005550006",
        "+14155550123",
        InstructionsUrl("https://app.example.com/answer"),
        status_callback_events=(CallEvent.COMPLETED,),
    )
    with pytest.raises(InvalidArgument) as refused:
        DEVELOPMENT.check_place(call)
    assert refused.value.violations[0].field == "status_callback_events"
