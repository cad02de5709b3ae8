"""Our call requests next to the providers' own clients: each SDK sends the same action to the
same fake, and the two requests must say the same thing; the SDK must read the fake's answers
and errors as it reads the provider's (so the fakes the other tests trust are faithful).

Twilio's, Plivo's and Telnyx's official libraries are on the package index; Vonage's voice
client is not installed here, and Exotel has no official SDK.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import plivo  # type: ignore[import-untyped]
import plivo.rest.client  # type: ignore[import-untyped]
import pytest
import telnyx
from integration_api_proto.integration.v1 import (
    CallEvent,
    CallInstructions,
    PlaceCallResponse,
)
from integration_api_proto.integration.v1.grpc_aio import TelephonyServiceStub
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.rest import Client as TwilioClient  # type: ignore[import-untyped]

from integration_api.providers.twilio.twiml import stream_twiml
from integration_api.telephony.calls import MediaStream as DomainStream
from tests.calls.accounts import CallAccount
from tests.calls.support import (
    AGENT_URL,
    ANSWER_URL,
    CALLBACK_URL,
    CALLEE,
    PARAMETERS,
    Calls,
    place_request,
    stream,
)
from tests.fakes.call_book import INVALID_NUMBER, OWNED_NUMBER
from tests.fakes.calls_telnyx import CONNECTION_ID
from tests.fakes.server import RecordedRequest
from tests.fakes.telephony_accounts import PLIVO_AUTH_ID, TWILIO_ACCOUNT_SID
from tests.providers.test_telephony_account_sdks import _TwilioToFake
from tests.support.service import RunningService


@pytest.fixture
def calls(telephony: TelephonyServiceStub, service: RunningService) -> Calls:
    return Calls(telephony, service)


def _form(request: RecordedRequest) -> list[tuple[str, str]]:
    return sorted(parse_qsl(request.body.decode(), keep_blank_values=True))


def _token(account: CallAccount) -> str:
    return account.secrets[0]


def _last_two(account: CallAccount) -> tuple[RecordedRequest, RecordedRequest]:
    *_, theirs, ours = account.server.requests
    return theirs, ours


def _same_target(theirs: RecordedRequest, ours: RecordedRequest) -> None:
    assert (ours.method, ours.path, ours.query) == (theirs.method, theirs.path, theirs.query)
    assert ours.headers["authorization"] == theirs.headers["authorization"]


# ---- Twilio -----------------------------------------------------------------------------------


def _twilio(account: CallAccount) -> TwilioClient:
    return TwilioClient(
        TWILIO_ACCOUNT_SID, _token(account), http_client=_TwilioToFake(account.server.url)
    )


async def test_twilio_place_call_is_the_sdks_request(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["twilio"]
    twiml = stream_twiml(DomainStream(AGENT_URL, PARAMETERS))
    created = await asyncio.to_thread(
        _twilio(account).calls.create,
        to=CALLEE,
        from_=OWNED_NUMBER,
        twiml=twiml,
        status_callback=CALLBACK_URL,
        status_callback_method="POST",
        status_callback_event=["answered", "completed"],
        timeout=25,
    )
    placed = await calls.place(
        place_request(
            account,
            stream(),
            status_callback_url=CALLBACK_URL,
            status_callback_events=[CallEvent.ANSWERED, CallEvent.COMPLETED],
            ring_timeout=datetime.timedelta(seconds=25),
        )
    )

    assert isinstance(placed, PlaceCallResponse), placed
    assert (created.status, created.to, created._from) == ("queued", CALLEE, OWNED_NUMBER)
    theirs, ours = _last_two(account)
    _same_target(theirs, ours)
    assert _form(ours) == _form(theirs)


async def test_twilio_hang_up_and_redirect_are_the_sdks_updates(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["twilio"]
    sdk = _twilio(account)
    for ours_kwargs, theirs_kwargs in [
        ({"redirect": CallInstructions(url=ANSWER_URL)}, {"url": ANSWER_URL}),
        (None, {"status": "completed"}),
    ]:
        first = account.fake.book.open(OWNED_NUMBER, CALLEE, "in-progress", {})
        second = account.fake.book.open(OWNED_NUMBER, CALLEE, "in-progress", {})
        updated = await asyncio.to_thread(sdk.calls(first.call_id).update, **theirs_kwargs)
        if ours_kwargs is None:
            await calls.hang_up(account, second.call_id)
        else:
            await calls.update(account, second.call_id, **ours_kwargs)
        theirs, ours = _last_two(account)
        assert ours.path == theirs.path.replace(first.call_id, second.call_id)
        assert _form(ours) == _form(theirs)
        assert updated.sid == first.call_id


async def test_twilio_errors_from_the_fake_read_as_twilio_errors_in_the_sdk(
    accounts: dict[str, CallAccount],
) -> None:
    sdk = _twilio(accounts["twilio"])

    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(
            sdk.calls.create, to=INVALID_NUMBER, from_=OWNED_NUMBER, url=ANSWER_URL
        )

    assert (raised.value.status, raised.value.code) == (400, 21211)


# ---- Plivo ------------------------------------------------------------------------------------


@pytest.fixture
def plivo_sdk(
    accounts: dict[str, CallAccount], monkeypatch: pytest.MonkeyPatch
) -> plivo.RestClient:
    account = accounts["plivo"]
    # Voice requests go to their own base (and two fallbacks on 5xx): every one to the fake.
    for name in (
        "PLIVO_API_BASE_URI",
        "API_VOICE_BASE_URI",
        "API_VOICE_BASE_URI_FALLBACK_1",
        "API_VOICE_BASE_URI_FALLBACK_2",
    ):
        monkeypatch.setattr(plivo.rest.client, name, account.server.url + "/v1/Account")
    return plivo.RestClient(PLIVO_AUTH_ID, _token(account))


def _json(request: RecordedRequest) -> dict[str, Any]:
    value = json.loads(request.body) if request.body else {}
    assert isinstance(value, dict)
    return value


async def test_plivo_place_call_is_the_sdks_request(
    calls: Calls, accounts: dict[str, CallAccount], plivo_sdk: plivo.RestClient
) -> None:
    account = accounts["plivo"]
    created = await asyncio.to_thread(
        plivo_sdk.calls.create,
        from_=OWNED_NUMBER,
        to_=CALLEE,
        answer_url=ANSWER_URL,
        answer_method="POST",
        hangup_url=CALLBACK_URL,
        ring_timeout=25,
    )
    placed = await calls.place(
        place_request(
            account,
            CallInstructions(url=ANSWER_URL),
            status_callback_url=CALLBACK_URL,
            ring_timeout=datetime.timedelta(seconds=25),
        )
    )

    assert isinstance(placed, PlaceCallResponse), placed
    assert created.request_uuid in account.fake.book.calls
    theirs, ours = _last_two(account)
    _same_target(theirs, ours)
    sent, sdk_sent = _json(ours), _json(theirs)
    # The SDK also sends its defaults (methods, machine detection); ours are a subset, equal.
    assert {name: sdk_sent.get(name) for name in sent} == sent


async def test_plivo_hang_up_and_stream_are_the_sdks_requests(
    calls: Calls, accounts: dict[str, CallAccount], plivo_sdk: plivo.RestClient
) -> None:
    account = accounts["plivo"]
    first, second, third, fourth = (
        account.fake.book.open(OWNED_NUMBER, CALLEE, "in-progress", {}) for _ in range(4)
    )

    await asyncio.to_thread(
        plivo_sdk.calls.start_stream,
        first.call_id,
        AGENT_URL,
        bidirectional=True,
        audio_track="inbound",
        content_type="audio/x-l16;rate=16000",
        extra_headers="agent=support-en,tenant_ref=acme & co <1>",
    )
    await calls.update(account, second.call_id, redirect=stream())
    theirs, ours = _last_two(account)
    assert ours.path == theirs.path.replace(first.call_id, second.call_id)
    assert _json(ours) == {
        name: value for name, value in _json(theirs).items() if name in _json(ours)
    }

    await asyncio.to_thread(plivo_sdk.calls.delete, third.call_id)
    await calls.hang_up(account, fourth.call_id)
    theirs, ours = _last_two(account)
    assert (ours.method, ours.path) == (
        theirs.method,
        theirs.path.replace(third.call_id, fourth.call_id),
    )


# ---- Telnyx -----------------------------------------------------------------------------------


@pytest.fixture
def telnyx_sdk(accounts: dict[str, CallAccount]) -> Iterator[telnyx.Telnyx]:
    account = accounts["telnyx"]
    client = telnyx.Telnyx(api_key=_token(account), base_url=account.server.url + "/v2/")
    yield client
    client.close()


async def test_telnyx_dial_is_the_sdks_request(
    calls: Calls, accounts: dict[str, CallAccount], telnyx_sdk: telnyx.Telnyx
) -> None:
    account = accounts["telnyx"]
    state = base64.b64encode(
        json.dumps(PARAMETERS, separators=(",", ":"), sort_keys=True).encode()
    ).decode()
    dialed = await asyncio.to_thread(
        telnyx_sdk.calls.dial,
        connection_id=CONNECTION_ID,
        from_=OWNED_NUMBER,
        to=CALLEE,
        stream_url=AGENT_URL,
        stream_track="inbound_track",
        stream_bidirectional_mode="rtp",
        client_state=state,
        webhook_url=CALLBACK_URL,
        webhook_url_method="POST",
        timeout_secs=25,
    )
    placed = await calls.place(
        place_request(
            account,
            stream(),
            status_callback_url=CALLBACK_URL,
            ring_timeout=datetime.timedelta(seconds=25),
        )
    )

    assert isinstance(placed, PlaceCallResponse), placed
    assert dialed.data is not None and dialed.data.call_control_id in account.fake.book.calls
    theirs, ours = _last_two(account)
    _same_target(theirs, ours)
    assert _json(ours) == _json(theirs)


async def test_telnyx_commands_are_the_sdks_requests(
    calls: Calls, accounts: dict[str, CallAccount], telnyx_sdk: telnyx.Telnyx
) -> None:
    account = accounts["telnyx"]
    book = account.fake.book
    first, second = (book.open(OWNED_NUMBER, CALLEE, "alive", {}) for _ in range(2))

    await asyncio.to_thread(
        telnyx_sdk.calls.actions.start_streaming,
        first.call_id,
        stream_url=AGENT_URL,
        stream_track="inbound_track",
        stream_bidirectional_mode="rtp",
        custom_parameters=[{"name": name, "value": value} for name, value in PARAMETERS.items()],
    )
    await calls.update(account, second.call_id, redirect=stream())
    theirs, ours = _last_two(account)
    assert ours.path == theirs.path.replace(first.call_id, second.call_id)
    assert _json(ours) == _json(theirs)

    await asyncio.to_thread(telnyx_sdk.calls.actions.hangup, first.call_id)
    await calls.hang_up(account, second.call_id)
    theirs, ours = _last_two(account)
    assert ours.path == theirs.path.replace(first.call_id, second.call_id)
    assert _json(ours) == _json(theirs)


async def test_telnyx_errors_from_the_fake_read_as_telnyx_errors_in_the_sdk(
    accounts: dict[str, CallAccount], telnyx_sdk: telnyx.Telnyx
) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as raised:
        await asyncio.to_thread(
            telnyx_sdk.calls.dial,
            connection_id=CONNECTION_ID,
            from_=OWNED_NUMBER,
            to=INVALID_NUMBER,
            stream_url=AGENT_URL,
        )

    assert raised.value.status_code == 422
    assert raised.value.body == {
        "errors": [{"code": "10002", "title": "Invalid phone number", "detail": ""}]
    }
