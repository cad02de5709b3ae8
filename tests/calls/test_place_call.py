"""PlaceCall through the real service for every provider: a media stream to a voice agent in
each provider's own form, instructions by URL and markup, status callbacks and ring timeout."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ElementTree

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    CallEvent,
    CallInstructions,
    CallStatus,
    PlaceCallResponse,
)
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub
from twilio.twiml.voice_response import Connect, VoiceResponse  # type: ignore[import-untyped]

from tests.calls.accounts import CallAccount
from tests.calls.support import (
    AGENT_URL,
    ANSWER_URL,
    CALLBACK_URL,
    CALLEE,
    PARAMETERS,
    Calls,
    place_request,
    refused,
    stream,
)
from tests.fakes.call_book import OWNED_NUMBER
from tests.support.service import RunningService

STREAMING = ("twilio", "vonage", "telnyx")
BY_URL = ("twilio", "vonage", "plivo", "exotel")
BY_MARKUP = ("twilio", "vonage")
NCCO = [{"action": "talk", "text": "Hello"}, {"action": "record"}]
MARKUP = {
    "twilio": '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>',
    "vonage": json.dumps(NCCO),
}
# The status each provider gives a call it has just accepted.
NEW_CALL_STATUS = {
    "twilio": "queued",
    "vonage": "started",
    "plivo": "",
    "telnyx": "",
    "exotel": "in-progress",
}


@pytest.fixture
def calls(telephony: TelephonyServiceStub, service: RunningService) -> Calls:
    return Calls(telephony, service)


def _placed(result: object, account: CallAccount) -> PlaceCallResponse:
    assert isinstance(result, PlaceCallResponse), result
    call = result.call
    assert call.call_id == account.fake.book.only().call_id
    assert call.provider == account.provider
    assert call.provider_status == NEW_CALL_STATUS[account.provider]
    assert call.from_number == OWNED_NUMBER
    assert call.to_number == CALLEE
    expected = CallStatus.IN_PROGRESS if account.provider == "exotel" else CallStatus.QUEUED
    assert call.status == expected
    return result


def _sdk_stream_twiml() -> str:
    """What Twilio's own library writes for the same stream."""
    response = VoiceResponse()
    connect = Connect()
    sdk_stream = connect.stream(url=AGENT_URL)
    for name, value in PARAMETERS.items():
        sdk_stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def _canonical(document: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (element.tag, dict(element.attrib)) for element in ElementTree.fromstring(document).iter()
    ]


@pytest.mark.parametrize("provider", STREAMING)
async def test_a_media_stream_is_rendered_in_the_providers_own_form(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]

    result = await calls.place(place_request(account, stream()))

    _placed(result, account)
    sent = account.fake.book.only().sent
    if provider == "twilio":
        assert "Url" not in sent
        assert _canonical(sent["Twiml"]) == _canonical(_sdk_stream_twiml())
    elif provider == "vonage":
        websocket = {
            "type": "websocket",
            "uri": AGENT_URL,
            "content-type": "audio/l16;rate=16000",
            "headers": PARAMETERS,
        }
        assert sent["ncco"] == [{"action": "connect", "endpoint": [websocket]}]
        assert sent["to"] == [{"type": "phone", "number": CALLEE.removeprefix("+")}]
    else:
        assert sent["stream_url"] == AGENT_URL
        assert sent["stream_track"] == "inbound_track"
        assert sent["stream_bidirectional_mode"] == "rtp"
        assert json.loads(base64.b64decode(sent["client_state"])) == PARAMETERS


@pytest.mark.parametrize("provider", ["plivo", "exotel"])
async def test_a_media_stream_where_the_provider_has_no_inline_form_is_not_supported(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]

    result = await calls.place(place_request(account, stream()))

    refused(result, grpc.StatusCode.FAILED_PRECONDITION, "CAPABILITY_NOT_SUPPORTED")
    assert account.server.requests == []


@pytest.mark.parametrize("provider", BY_URL)
async def test_an_instructions_url_is_handed_to_the_provider(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]

    result = await calls.place(place_request(account, CallInstructions(url=ANSWER_URL)))

    _placed(result, account)
    sent = account.fake.book.only().sent
    given = {
        "twilio": sent.get("Url"),
        "vonage": sent.get("answer_url"),
        "plivo": sent.get("answer_url"),
        "exotel": sent.get("Url"),
    }[provider]
    assert given == ([ANSWER_URL] if provider == "vonage" else ANSWER_URL)


async def test_telnyx_takes_neither_a_url_nor_markup(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["telnyx"]
    for answer in (CallInstructions(url=ANSWER_URL), CallInstructions(markup="<Response/>")):
        result = await calls.place(place_request(account, answer))
        refused(result, grpc.StatusCode.FAILED_PRECONDITION, "CAPABILITY_NOT_SUPPORTED")
    assert account.server.requests == []


@pytest.mark.parametrize("provider", BY_MARKUP)
async def test_markup_is_passed_through(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]

    result = await calls.place(place_request(account, CallInstructions(markup=MARKUP[provider])))

    _placed(result, account)
    sent = account.fake.book.only().sent
    if provider == "twilio":
        assert sent["Twiml"] == MARKUP["twilio"]
    else:
        assert sent["ncco"] == NCCO


async def test_vonage_markup_that_is_not_an_ncco_is_refused_before_any_request(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["vonage"]
    for markup in ("<Response/>", '{"action": "talk"}', "[]"):
        result = await calls.place(place_request(account, CallInstructions(markup=markup)))
        refused(result, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert account.server.requests == []


@pytest.mark.parametrize("provider", ["plivo", "exotel"])
async def test_markup_where_the_provider_fetches_its_instructions_is_not_supported(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]

    result = await calls.place(place_request(account, CallInstructions(markup="<Response/>")))

    refused(result, grpc.StatusCode.FAILED_PRECONDITION, "CAPABILITY_NOT_SUPPORTED")


def _callback_fields(provider: str, sent: dict[str, object]) -> dict[str, object]:
    names = {
        "twilio": ("StatusCallback", "StatusCallbackMethod", "StatusCallbackEvent", "Timeout"),
        "vonage": ("event_url", "event_method", "ringing_timer"),
        "plivo": ("ring_url", "hangup_url", "ring_timeout"),
        "telnyx": ("webhook_url", "webhook_url_method", "timeout_secs"),
        "exotel": (
            "StatusCallback",
            "StatusCallbackEvents[0]",
            "StatusCallbackEvents[1]",
            "TimeOut",
        ),
    }[provider]
    return {name: sent.get(name) for name in names}


EXPECTED_CALLBACKS: dict[str, dict[str, object]] = {
    "twilio": {
        "StatusCallback": CALLBACK_URL,
        "StatusCallbackMethod": "POST",
        "StatusCallbackEvent": ["answered", "completed"],
        "Timeout": "25",
    },
    "vonage": {"event_url": [CALLBACK_URL], "event_method": "POST", "ringing_timer": 25},
    "plivo": {"ring_url": None, "hangup_url": CALLBACK_URL, "ring_timeout": 25},
    "telnyx": {"webhook_url": CALLBACK_URL, "webhook_url_method": "POST", "timeout_secs": 25},
    "exotel": {
        "StatusCallback": CALLBACK_URL,
        "StatusCallbackEvents[0]": "answered",
        "StatusCallbackEvents[1]": "terminal",
        "TimeOut": "25",
    },
}


async def test_status_callbacks_and_the_ring_timeout_reach_each_provider(
    calls: Calls, account: CallAccount
) -> None:
    import datetime

    answer = stream() if account.provider == "telnyx" else CallInstructions(url=ANSWER_URL)
    events = [CallEvent.ANSWERED, CallEvent.COMPLETED]
    if account.provider == "plivo":
        events = [CallEvent.COMPLETED]
    request = place_request(
        account,
        answer,
        status_callback_url=CALLBACK_URL,
        status_callback_events=events,
        ring_timeout=datetime.timedelta(seconds=24.2),
    )

    result = await calls.place(request)

    _placed(result, account)
    sent = account.fake.book.only().sent
    assert _callback_fields(account.provider, sent) == EXPECTED_CALLBACKS[account.provider]


@pytest.mark.parametrize("provider", ["plivo", "exotel"])
async def test_events_a_provider_cannot_report_separately_are_not_supported(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]
    request = place_request(
        account,
        CallInstructions(url=ANSWER_URL),
        status_callback_url=CALLBACK_URL,
        status_callback_events=[CallEvent.INITIATED],
    )

    result = await calls.place(request)

    refused(result, grpc.StatusCode.FAILED_PRECONDITION, "CAPABILITY_NOT_SUPPORTED")
    assert account.server.requests == []
