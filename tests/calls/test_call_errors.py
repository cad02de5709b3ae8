"""Call-control failures through the real service: provider errors mapped by status and code
(the code kept as `provider_code`), rate limits with their delay, outages, refused keys,
requests refused before any provider sees them, and other tenants' credentials."""

from __future__ import annotations

import secrets

import grpc
import pytest
from google.rpc import error_details_pb2
from integration_api_proto.integration.v1 import (
    CallInstructions,
    CheckOutcome,
    CredentialConfig,
    GetCredentialRequest,
    PlaceCallResponse,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    TelephonyServiceStub,
)

from tests.calls.accounts import CallAccount, create_request, store
from tests.calls.support import ANSWER_URL, Calls, place_request, refused, stream
from tests.credentials.helpers import openai_request, rich_status
from tests.fakes.call_book import FORBIDDEN_NUMBER, INVALID_NUMBER, UNREACHABLE_NUMBER
from tests.fakes.server import FakeServer
from tests.support.service import RunningService

IN, PRE = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture
def calls(telephony: TelephonyServiceStub, service: RunningService) -> Calls:
    return Calls(telephony, service)


def _answer_for(account: CallAccount) -> CallInstructions:
    return stream() if account.provider == "telnyx" else CallInstructions(url=ANSWER_URL)


def _to(account: CallAccount, number: str) -> object:
    return place_request(account, _answer_for(account), to_number=number)


# (provider, the number called, status, reason, the provider's code)
NUMBER_ERRORS = [
    ("twilio", INVALID_NUMBER, IN, "INVALID_NUMBER", "21211"),
    ("twilio", UNREACHABLE_NUMBER, IN, "NUMBER_UNREACHABLE", "21214"),
    ("twilio", FORBIDDEN_NUMBER, PRE, "CALL_NOT_PERMITTED", "21215"),
    ("vonage", INVALID_NUMBER, IN, "INVALID_ARGUMENT", "bad-request"),
    ("plivo", INVALID_NUMBER, IN, "INVALID_ARGUMENT", None),
    ("plivo", FORBIDDEN_NUMBER, PRE, "CALL_NOT_PERMITTED", None),
    ("telnyx", INVALID_NUMBER, IN, "INVALID_NUMBER", "10002"),
    ("telnyx", "4155550123", IN, "INVALID_NUMBER", "10016"),
    ("exotel", INVALID_NUMBER, IN, "INVALID_ARGUMENT", "34001"),
]


@pytest.mark.parametrize(("provider", "number", "code", "reason", "provider_code"), NUMBER_ERRORS)
async def test_a_number_the_provider_refuses_is_mapped_by_status_and_code(
    calls: Calls,
    accounts: dict[str, CallAccount],
    provider: str,
    number: str,
    code: grpc.StatusCode,
    reason: str,
    provider_code: str | None,
) -> None:
    account = accounts[provider]

    result = await calls.place(_to(account, number))  # type: ignore[arg-type]

    error = refused(result, code, reason, provider_code)
    if provider_code is None:
        assert "provider_code" not in rich_metadata(error)


def rich_metadata(error: grpc.aio.AioRpcError) -> dict[str, str]:
    from tests.credentials.helpers import error_info

    return dict(error_info(error).metadata)


async def test_twilio_caller_ids_it_does_not_know_are_failed_preconditions(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["twilio"]
    answer = CallInstructions(url=ANSWER_URL)

    unverified = await calls.place(place_request(account, answer, from_number="+14155550100"))
    invalid = await calls.place(place_request(account, answer, from_number=INVALID_NUMBER))

    refused(unverified, PRE, "CALLER_ID_NOT_VERIFIED", "21210")
    refused(invalid, IN, "INVALID_NUMBER", "21212")


async def test_a_call_the_account_may_not_make_does_not_mark_the_key_rejected(
    service: RunningService, calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["plivo"]

    refused(await calls.place(_to(account, FORBIDDEN_NUMBER)), PRE, "CALL_NOT_PERMITTED")  # type: ignore[arg-type]

    stub = CredentialServiceStub(service.channel)
    reply = await stub.get_credential(
        GetCredentialRequest(id=account.credential_id), metadata=service.auth()
    )
    assert reply.credential.last_check.outcome == CheckOutcome.VALID


RATE_LIMIT_BODIES: dict[str, object] = {
    "twilio": {"code": 20429, "message": "Too Many Requests", "status": 429},
    "vonage": {
        "type": "https://developer.nexmo.com/api-errors#throttled",
        "title": "Too Many Requests",
    },
    "plivo": {"api_id": "97ceeb52", "error": "too many requests"},
    "telnyx": {"errors": [{"code": "10011", "title": "Too many requests"}]},
    "exotel": {"RestException": {"Status": 429, "Message": "Too many requests"}},
}


async def test_a_rate_limit_is_resource_exhausted_with_the_providers_delay(
    calls: Calls, account: CallAccount
) -> None:
    account.server.answer_with_status(
        429, RATE_LIMIT_BODIES[account.provider], headers={"Retry-After": "7"}
    )

    result = await calls.place(place_request(account, _answer_for(account)))

    codes = {"twilio": "20429", "vonage": "throttled", "telnyx": "10011"}
    error = refused(
        result, grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED", codes.get(account.provider)
    )
    status = rich_status(error)
    assert status is not None
    delays = []
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            delays.append(info.retry_delay.seconds)
    assert delays == [7]


@pytest.mark.parametrize("status", [500, 503])
async def test_a_provider_outage_is_unavailable(
    calls: Calls, account: CallAccount, status: int
) -> None:
    account.server.answer_with_status(status, {"message": "down"})

    result = await calls.place(place_request(account, _answer_for(account)))

    refused(result, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")


async def test_a_provider_that_cannot_be_reached_is_unavailable(
    service: RunningService, calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["twilio"]
    token = "tok" + secrets.token_hex(16)
    account.accepted.add(token)
    async with FakeServer() as gone:
        from tests.fakes.telephony_accounts import TWILIO

        TWILIO.install(gone, account.accepted)
        credential_id = await store(service, create_request("twilio", token, gone.url, ""))
    moved = CallAccount("twilio", gone, account.fake, credential_id, (token,), account.accepted)

    result = await calls.get(moved, "CA0123456789abcdef0123456789abcdef")

    refused(result, grpc.StatusCode.UNAVAILABLE, "UPSTREAM_UNAVAILABLE")


async def test_a_key_the_provider_refuses_becomes_the_credentials_last_check(
    service: RunningService, calls: Calls, account: CallAccount
) -> None:
    token = "tok" + secrets.token_hex(16)
    account.accepted.add(token)
    private_pem = account.secrets[-1] if account.provider == "vonage" else ""
    request = create_request(account.provider, token, account.server.url, private_pem)
    if account.provider == "vonage":
        # The Voice API's key is the application's: another application's key is refused.
        from tests.calls.accounts import vonage_key_pair

        request.secret.vonage.private_key = vonage_key_pair()[0]
    credential_id = await store(service, request)
    account.accepted.discard(token)
    revoked = CallAccount(
        account.provider, account.server, account.fake, credential_id, (token,), set()
    )

    result = await calls.get(revoked, "CA0123456789abcdef0123456789abcdef")

    refused(result, PRE, "CREDENTIAL_REJECTED")
    stub = CredentialServiceStub(service.channel)
    reply = await stub.get_credential(
        GetCredentialRequest(id=credential_id), metadata=service.auth()
    )
    assert reply.credential.last_check.outcome == CheckOutcome.INVALID


async def test_another_tenants_credential_is_not_found_and_reaches_no_provider(
    telephony: TelephonyServiceStub, service: RunningService, account: CallAccount
) -> None:
    stranger = Calls(telephony, service, organization_id="org-other", project_id="project-other")

    placed = await stranger.place(place_request(account, _answer_for(account)))
    fetched = await stranger.get(account, "CA0123456789abcdef0123456789abcdef")
    ended = await stranger.hang_up(account, "CA0123456789abcdef0123456789abcdef")

    for result in (placed, fetched, ended):
        refused(result, grpc.StatusCode.NOT_FOUND, "CREDENTIAL_NOT_FOUND")
    assert account.server.requests == []


async def test_a_credential_of_another_kind_has_no_call_control(
    service: RunningService, calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    credential_id = await store(
        service,
        openai_request("sk-" + secrets.token_hex(8), "http://127.0.0.1:9", skip_verification=True),
    )
    other = CallAccount(
        "openai", accounts["twilio"].server, accounts["twilio"].fake, credential_id, (), set()
    )

    result = await calls.place(place_request(other, CallInstructions(url=ANSWER_URL)))

    refused(result, PRE, "CAPABILITY_NOT_SUPPORTED")


async def test_telnyx_without_a_call_control_application_is_a_failed_precondition(
    service: RunningService, calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["telnyx"]
    token = "tok" + secrets.token_hex(16)
    account.accepted.add(token)
    request = create_request("telnyx", token, account.server.url, "")
    request.config = CredentialConfig(base_url=account.server.url)
    credential_id = await store(service, request)
    bare = CallAccount("telnyx", account.server, account.fake, credential_id, (token,), set())

    result = await calls.place(place_request(bare, stream()))

    refused(result, PRE, "CONNECTION_ID_MISSING")
    assert account.fake.book.calls == {}


async def test_vonage_without_a_voice_application_is_a_failed_precondition(
    service: RunningService, calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["vonage"]
    token = "tok" + secrets.token_hex(16)
    account.accepted.add(token)
    request = create_request("vonage", token, account.server.url, "")
    request.secret.vonage.application_id = ""
    credential_id = await store(service, request)
    bare = CallAccount("vonage", account.server, account.fake, credential_id, (token,), set())

    result = await calls.place(place_request(bare, stream()))

    refused(result, PRE, "VOICE_APPLICATION_MISSING")


async def test_every_vonage_request_carries_a_fresh_one_minute_token(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["vonage"]
    account.fake.tokens.clear()  # type: ignore[attr-defined]

    placed = await calls.place(place_request(account, stream()))
    assert isinstance(placed, PlaceCallResponse), placed
    await calls.get(account, placed.call.call_id)
    await calls.hang_up(account, placed.call.call_id)

    tokens = account.fake.tokens  # type: ignore[attr-defined]
    assert len(tokens) == 3
    assert len({claims["jti"] for claims in tokens}) == 3
    assert all(claims["exp"] - claims["iat"] == 60 for claims in tokens)
    assert {claims["application_id"] for claims in tokens} == {
        "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
    }


# ---- requests refused before any provider sees them ------------------------------------------


@pytest.mark.parametrize(
    "call_id", ["../Accounts", "CA1/..", "a b", "", "x" * 200, "call?id=1", "id#frag", "é"]
)
async def test_a_call_id_that_could_steer_the_request_is_refused(
    calls: Calls, account: CallAccount, call_id: str
) -> None:
    for result in (
        await calls.get(account, call_id),
        await calls.hang_up(account, call_id),
        await calls.update(account, call_id, transfer_to="+442071838750"),
    ):
        refused(result, IN, "INVALID_ARGUMENT")
    assert account.server.requests == []


@pytest.mark.parametrize(
    ("fields", "answer"),
    [
        ({}, None),
        ({"from_number": ""}, CallInstructions(url=ANSWER_URL)),
        ({"to_number": "+1 415 555"}, CallInstructions(url=ANSWER_URL)),
        ({}, CallInstructions(url="ftp://app.example.com/answer")),
        ({}, CallInstructions(url="/answer")),
        ({}, CallInstructions(markup="<Say>" + "x" * (64 * 1024) + "</Say>")),
        ({}, CallInstructions(markup="   ")),
        ({}, stream(url="https://agent.example.com/media")),
        ({"status_callback_url": "app.example.com/events"}, CallInstructions(url=ANSWER_URL)),
    ],
)
async def test_a_malformed_request_is_refused_before_any_provider_call(
    calls: Calls,
    accounts: dict[str, CallAccount],
    fields: dict[str, object],
    answer: CallInstructions | None,
) -> None:
    account = accounts["twilio"]
    request = place_request(account, answer or CallInstructions(), **fields)
    if answer is None:
        request.answer = None

    result = await calls.place(request)

    refused(result, IN, "INVALID_ARGUMENT")
    assert account.server.requests == []


async def test_unencrypted_urls_are_accepted_outside_production(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    account = accounts["twilio"]

    result = await calls.place(
        place_request(
            account,
            stream(url="ws://127.0.0.1:8765/agent"),
            status_callback_url="http://127.0.0.1:8080/events",
        )
    )

    assert isinstance(result, PlaceCallResponse), result


async def test_an_answer_without_the_calls_id_is_a_bad_provider_response(
    calls: Calls, account: CallAccount
) -> None:
    account.server.answer_with_status(201, {"status": "queued", "data": {}, "Call": {}})

    result = await calls.place(place_request(account, _answer_for(account)))

    refused(result, grpc.StatusCode.UNAVAILABLE, "PROVIDER_BAD_RESPONSE")


async def test_every_action_is_counted_by_provider_and_outcome(
    calls: Calls, accounts: dict[str, CallAccount]
) -> None:
    from prometheus_client import REGISTRY

    def count(outcome: str) -> float:
        labels = {"provider": "twilio", "action": "place", "outcome": outcome}
        value = REGISTRY.get_sample_value("integration_api_telephony_call_actions_total", labels)
        return value or 0.0

    account = accounts["twilio"]
    before = count("ok"), count("invalid_argument")

    await calls.place(place_request(account, CallInstructions(url=ANSWER_URL)))
    await calls.place(_to(account, INVALID_NUMBER))  # type: ignore[arg-type]

    assert (count("ok"), count("invalid_argument")) == (before[0] + 1, before[1] + 1)
