"""GetCall, UpdateCall and HangUp through the real service: one normalized status from each
provider's own words, redirects and transfers in each provider's form, hang-ups and cancels."""

from __future__ import annotations

import datetime
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    CallInstructions,
    CallStatus,
    GetCallResponse,
    HangUpResponse,
    UpdateCallResponse,
)
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub

from tests.calls.accounts import CallAccount
from tests.calls.support import (
    AGENT_URL,
    ANSWER_URL,
    CALLEE,
    PARAMETERS,
    Calls,
    refused,
    stream,
)
from tests.fakes.call_book import OWNED_NUMBER, FakeCall
from tests.support.service import RunningService

S = CallStatus
# (provider, the provider's word for the call, the normalized status)
STATUS_WORDS = [
    ("twilio", "queued", S.QUEUED),
    ("twilio", "ringing", S.RINGING),
    ("twilio", "in-progress", S.IN_PROGRESS),
    ("twilio", "completed", S.COMPLETED),
    ("twilio", "busy", S.BUSY),
    ("twilio", "no-answer", S.NO_ANSWER),
    ("twilio", "failed", S.FAILED),
    ("twilio", "canceled", S.CANCELED),
    ("vonage", "started", S.QUEUED),
    ("vonage", "ringing", S.RINGING),
    ("vonage", "answered", S.IN_PROGRESS),
    ("vonage", "completed", S.COMPLETED),
    ("vonage", "busy", S.BUSY),
    ("vonage", "timeout", S.NO_ANSWER),
    ("vonage", "unanswered", S.NO_ANSWER),
    ("vonage", "rejected", S.FAILED),
    ("vonage", "cancelled", S.CANCELED),
    ("plivo", "queued", S.QUEUED),
    ("plivo", "ringing", S.RINGING),
    ("plivo", "in-progress", S.IN_PROGRESS),
    ("exotel", "queued", S.QUEUED),
    ("exotel", "in-progress", S.IN_PROGRESS),
    ("exotel", "completed", S.COMPLETED),
    ("exotel", "busy", S.BUSY),
    ("exotel", "no-answer", S.NO_ANSWER),
    ("exotel", "failed", S.FAILED),
]
STARTED = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC)
ENDED = STARTED + datetime.timedelta(seconds=65)


@pytest.fixture
def calls(telephony: TelephonyServiceStub, service: RunningService) -> Calls:
    return Calls(telephony, service)


def _open(account: CallAccount, status: str) -> FakeCall:
    """A call the fake provider already holds, as if placed earlier."""
    return account.fake.book.open(OWNED_NUMBER, CALLEE, status, {})


@pytest.mark.parametrize(("provider", "word", "expected"), STATUS_WORDS)
async def test_each_providers_status_word_reads_as_one_normalized_status(
    calls: Calls, accounts: dict[str, CallAccount], provider: str, word: str, expected: S
) -> None:
    account = accounts[provider]
    call = _open(account, word)

    result = await calls.get(account, call.call_id)

    assert isinstance(result, GetCallResponse), result
    assert result.call.call_id == call.call_id
    assert result.call.status == expected
    assert result.call.provider_status == word
    assert result.call.provider == provider


@pytest.mark.parametrize("provider", ["twilio", "vonage", "exotel"])
async def test_a_finished_call_reports_its_numbers_and_duration(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]
    call = _open(account, "completed")

    result = await calls.get(account, call.call_id)

    assert isinstance(result, GetCallResponse), result
    reported = result.call
    assert reported.status == S.COMPLETED
    assert reported.duration == datetime.timedelta(seconds=65)
    assert CALLEE.removeprefix("+") in reported.to_number
    assert OWNED_NUMBER.removeprefix("+") in reported.from_number
    if provider != "exotel":  # Exotel's times carry no zone: not guessed at
        assert (reported.started_at, reported.ended_at) == (STARTED, ENDED)


async def test_plivo_reads_a_finished_call_from_its_record(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["plivo"]
    answered, unanswered = _open(account, "completed"), _open(account, "no-answer")

    first = await calls.get(account, answered.call_id)
    second = await calls.get(account, unanswered.call_id)

    assert isinstance(first, GetCallResponse) and isinstance(second, GetCallResponse)
    assert first.call.status == S.COMPLETED
    assert first.call.duration == datetime.timedelta(seconds=60)
    assert first.call.ended_at == datetime.datetime.fromisoformat("2026-01-05 15:31:05+05:30")
    assert second.call.status == S.NO_ANSWER
    statuses = [request.query.get("status") for request in account.server.requests]
    assert statuses == ["live", "queued", None, "live", "queued", None]


@pytest.mark.parametrize(
    ("state", "expected"),
    [("dialing", S.QUEUED), ("alive", S.IN_PROGRESS), ("ended", S.COMPLETED)],
)
async def test_telnyx_reports_whether_the_call_is_alive(
    calls: Calls, accounts: dict[str, CallAccount], state: str, expected: S
) -> None:
    account = accounts["telnyx"]
    call = _open(account, state)

    result = await calls.get(account, call.call_id)

    assert isinstance(result, GetCallResponse), result
    assert result.call.status == expected
    assert result.call.provider_status == ""


async def test_an_unknown_call_is_not_found_with_the_providers_code(
    calls: Calls, account: CallAccount
) -> None:
    result = await calls.get(account, "CA0123456789abcdef0123456789abcdef")

    codes = {"twilio": "20404", "vonage": "not-found", "telnyx": "10005"}
    reason = "CALL_NOT_FOUND" if account.provider in codes else "NOT_FOUND"
    refused(result, grpc.StatusCode.NOT_FOUND, reason, codes.get(account.provider))


# ---- UpdateCall -------------------------------------------------------------------------------


def _updated(result: object, call: FakeCall) -> dict[str, object]:
    assert isinstance(result, UpdateCallResponse), result
    assert result.call.call_id == call.call_id
    assert len(call.actions) == 1
    action: dict[str, object] = call.actions[0]
    return action


async def test_twilio_redirects_a_live_call_to_a_stream_a_url_or_markup(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["twilio"]
    for redirect, field in [
        (stream(), "Twiml"),
        (CallInstructions(url=ANSWER_URL), "Url"),
        (CallInstructions(markup="<Response><Hangup/></Response>"), "Twiml"),
    ]:
        call = _open(account, "in-progress")
        action = _updated(await calls.update(account, call.call_id, redirect=redirect), call)
        assert list(action) == [field]
    assert AGENT_URL.replace("&", "&amp;") in str(account.fake.book.calls)


async def test_twilio_transfers_with_dial(calls: Calls, accounts: dict[str, CallAccount]) -> None:
    account = accounts["twilio"]
    call = _open(account, "in-progress")

    action = _updated(await calls.update(account, call.call_id, transfer_to="+442071838750"), call)

    assert "<Dial><Number>+442071838750</Number></Dial>" in str(action["Twiml"])


async def test_redirecting_a_call_that_is_not_in_progress_is_a_failed_precondition(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    twilio, telnyx = accounts["twilio"], accounts["telnyx"]
    ringing, ended = _open(twilio, "ringing"), _open(telnyx, "ended")

    first = await calls.update(twilio, ringing.call_id, redirect=stream())
    second = await calls.update(telnyx, ended.call_id, transfer_to="+442071838750")

    refused(first, grpc.StatusCode.FAILED_PRECONDITION, "CALL_ENDED", "21220")
    refused(second, grpc.StatusCode.FAILED_PRECONDITION, "CALL_ENDED", "90018")


async def test_vonage_transfers_to_an_ncco_a_url_or_a_number(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["vonage"]
    websocket = {
        "type": "websocket",
        "uri": AGENT_URL,
        "content-type": "audio/l16;rate=16000",
        "headers": PARAMETERS,
    }
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        (
            {"redirect": stream()},
            {"type": "ncco", "ncco": [{"action": "connect", "endpoint": [websocket]}]},
        ),
        ({"redirect": CallInstructions(url=ANSWER_URL)}, {"type": "ncco", "url": [ANSWER_URL]}),
        (
            {"transfer_to": "sip:agent@pbx.example.com"},
            {
                "type": "ncco",
                "ncco": [
                    {
                        "action": "connect",
                        "endpoint": [{"type": "sip", "uri": "sip:agent@pbx.example.com"}],
                    }
                ],
            },
        ),
    ]
    for change, destination in cases:
        call = _open(account, "answered")
        action = _updated(await calls.update(account, call.call_id, **change), call)
        assert action == {"action": "transfer", "destination": destination}


async def test_plivo_redirects_to_a_url_or_starts_a_stream_on_the_live_call(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["plivo"]
    by_url = _open(account, "in-progress")
    to_agent = _open(account, "in-progress")

    first = await calls.update(account, by_url.call_id, redirect=CallInstructions(url=ANSWER_URL))
    second = await calls.update(account, to_agent.call_id, redirect=stream())

    assert _updated(first, by_url) == {
        "legs": "aleg",
        "aleg_url": ANSWER_URL,
        "aleg_method": "POST",
    }
    assert _updated(second, to_agent) == {
        "stream": {
            "service_url": AGENT_URL,
            "bidirectional": True,
            "audio_track": "inbound",
            "content_type": "audio/x-l16;rate=16000",
            "extra_headers": "agent=support-en,tenant_ref=acme & co <1>",
        }
    }


async def test_telnyx_starts_a_stream_or_transfers(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["telnyx"]
    streamed, transferred = _open(account, "alive"), _open(account, "alive")

    first = await calls.update(account, streamed.call_id, redirect=stream())
    second = await calls.update(account, transferred.call_id, transfer_to="+442071838750")

    assert _updated(first, streamed) == {
        "streaming_start": {
            "stream_url": AGENT_URL,
            "stream_track": "inbound_track",
            "stream_bidirectional_mode": "rtp",
            "custom_parameters": [{"name": n, "value": v} for n, v in PARAMETERS.items()],
        }
    }
    assert _updated(second, transferred) == {"transfer": {"to": "+442071838750"}}


@pytest.mark.parametrize(
    ("provider", "change"),
    [
        ("plivo", {"transfer_to": "+442071838750"}),
        ("plivo", {"redirect": CallInstructions(markup="<Response/>")}),
        ("telnyx", {"redirect": CallInstructions(url=ANSWER_URL)}),
        ("exotel", {"redirect": stream()}),
        ("exotel", {"transfer_to": "+442071838750"}),
    ],
)
async def test_changes_a_provider_does_not_offer_are_not_supported(
    calls: Calls, accounts: dict[str, CallAccount], provider: str, change: dict[str, object]
) -> None:
    account = accounts[provider]
    call = _open(account, "in-progress")

    result = await calls.update(account, call.call_id, **change)

    refused(result, grpc.StatusCode.FAILED_PRECONDITION, "CAPABILITY_NOT_SUPPORTED")
    assert account.server.requests == []


# ---- HangUp -----------------------------------------------------------------------------------

# (provider, the call's word before, the normalized status after, its word after)
HANG_UPS = [
    ("twilio", "in-progress", S.COMPLETED, "completed"),
    ("twilio", "ringing", S.CANCELED, "canceled"),
    ("vonage", "answered", S.COMPLETED, "completed"),
    ("plivo", "in-progress", S.COMPLETED, "completed"),
    ("plivo", "queued", S.CANCELED, "canceled"),
    ("telnyx", "alive", S.COMPLETED, "ended"),
]


@pytest.mark.parametrize(("provider", "before", "expected", "after"), HANG_UPS)
async def test_hanging_up_ends_a_live_call_and_cancels_one_not_yet_answered(
    calls: Calls,
    accounts: dict[str, CallAccount],
    provider: str,
    before: str,
    expected: S,
    after: str,
) -> None:
    account = accounts[provider]
    call = _open(account, before)

    result = await calls.hang_up(account, call.call_id)

    assert isinstance(result, HangUpResponse), result
    assert result.call.call_id == call.call_id
    assert result.call.status == expected
    assert call.status == after


async def test_exotel_cannot_hang_up_through_its_api(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["exotel"]
    call = _open(account, "in-progress")

    result = await calls.hang_up(account, call.call_id)

    refused(result, grpc.StatusCode.FAILED_PRECONDITION, "CAPABILITY_NOT_SUPPORTED")
    assert call.status == "in-progress"


async def test_plivo_stream_parameters_that_cannot_travel_as_key_value_pairs_are_refused(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["plivo"]
    call = _open(account, "in-progress")

    result = await calls.update(account, call.call_id, redirect=stream(note="a=b,c"))

    refused(result, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert call.actions == []


@pytest.mark.parametrize(
    ("provider", "word"), [("vonage", "completed"), ("plivo", "completed"), ("plivo", "no-answer")]
)
async def test_acting_on_a_call_the_provider_no_longer_finds_because_it_ended_is_call_ended(
    calls: Calls, accounts: dict[str, CallAccount], provider: str, word: str
) -> None:
    account = accounts[provider]
    call = _open(account, word)

    ended = await calls.hang_up(account, call.call_id)
    redirected = await calls.update(
        account, call.call_id, redirect=CallInstructions(url=ANSWER_URL)
    )

    for result in (ended, redirected):
        error = refused(result, grpc.StatusCode.FAILED_PRECONDITION, "CALL_ENDED")
        assert "has ended" in (error.details() or "")
    assert call.actions == []


@pytest.mark.parametrize("provider", ["vonage", "plivo"])
async def test_hanging_up_a_call_the_provider_never_had_is_not_found(
    calls: Calls, accounts: dict[str, CallAccount], provider: str
) -> None:
    account = accounts[provider]

    result = await calls.hang_up(account, "0b9a41e7-6d40-4d4c-9b39-2a3f1c1c1c1c")

    refused(
        result, grpc.StatusCode.NOT_FOUND, "CALL_NOT_FOUND" if provider == "vonage" else "NOT_FOUND"
    )
