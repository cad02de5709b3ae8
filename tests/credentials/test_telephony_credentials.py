"""Telephony credentials through CredentialService: stored, verified, rotated, disabled and kept
to their tenant like every other credential, each checked by its provider's account read."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    CheckOutcome,
    CredentialConfig,
    CredentialSecret,
    CredentialStatus,
    DisableCredentialRequest,
    GetCredentialRequest,
    ListCredentialsRequest,
    RotateCredentialRequest,
    TwilioSecret,
    VerifyCredentialRequest,
    VonageSecret,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import generate_latest

from integration_api.observability import tracing
from tests.credentials.helpers import error_info, field_violations
from tests.fakes import telephony_accounts
from tests.fakes.server import FakeServer
from tests.support.service import RunningService
from tests.support.telephony_credentials import TELEPHONY_ACCOUNTS, TelephonyAccount

Fake = tuple[FakeServer, set[str]]


def _token() -> str:
    return "tok" + secrets.token_hex(16)


@pytest.fixture(params=TELEPHONY_ACCOUNTS, ids=str)
def account(request: pytest.FixtureRequest) -> TelephonyAccount:
    chosen: TelephonyAccount = request.param
    return chosen


@pytest.fixture
async def account_fake(account: TelephonyAccount) -> AsyncIterator[Fake]:
    """The provider's account read, accepting the tokens in the returned set."""
    accepted: set[str] = set()
    async with FakeServer() as server:
        account.endpoint.install(server, accepted)
        yield server, accepted


async def test_created_account_is_verified_stored_and_answered_without_its_secret(
    service: RunningService,
    credentials: CredentialServiceStub,
    account: TelephonyAccount,
    account_fake: Fake,
) -> None:
    server, accepted = account_fake
    token = _token()
    accepted.add(token)

    reply = await credentials.create_credential(
        account.create_request(token, server.url), metadata=service.auth()
    )

    created = reply.credential
    assert created.provider == account.provider
    assert created.status == CredentialStatus.ACTIVE
    assert created.last_check.outcome == CheckOutcome.VALID
    assert created.secret_kind == account.provider
    assert created.secret_hint == "…" + token[-4:]
    assert token.encode() not in bytes(reply)
    assert len(server.requests_to(account.endpoint.path)) == 1
    listed = await credentials.list_credentials(ListCredentialsRequest(), metadata=service.auth())
    assert [item.id for item in listed.credentials] == [created.id]
    assert token.encode() not in bytes(listed)


async def test_token_the_provider_refuses_is_not_stored(
    service: RunningService,
    credentials: CredentialServiceStub,
    account: TelephonyAccount,
    account_fake: Fake,
) -> None:
    server, _accepted = account_fake

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.create_credential(
            account.create_request(_token(), server.url), metadata=service.auth()
        )

    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(raised.value)
    assert info.reason == "CREDENTIAL_REJECTED"
    assert info.metadata["provider"] == account.provider
    listed = await credentials.list_credentials(ListCredentialsRequest(), metadata=service.auth())
    assert listed.credentials == []


async def test_rotation_verifies_the_new_token_and_verify_uses_it(
    service: RunningService,
    credentials: CredentialServiceStub,
    account: TelephonyAccount,
    account_fake: Fake,
) -> None:
    server, accepted = account_fake
    old, new = _token(), _token()
    accepted.add(old)
    created = (
        await credentials.create_credential(
            account.create_request(old, server.url), metadata=service.auth()
        )
    ).credential
    rotate = RotateCredentialRequest(id=created.id, secret=account.secret(new))

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await credentials.rotate_credential(rotate, metadata=service.auth())
    accepted.add(new)
    rotated = (await credentials.rotate_credential(rotate, metadata=service.auth())).credential
    accepted.discard(old)
    checked = await credentials.verify_credential(
        VerifyCredentialRequest(id=created.id), metadata=service.auth()
    )

    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert rotated.secret_hint == "…" + new[-4:]
    assert rotated.fingerprint != created.fingerprint
    assert checked.check.outcome == CheckOutcome.VALID


async def test_revoked_token_is_recorded_invalid_and_the_account_can_be_disabled(
    service: RunningService,
    credentials: CredentialServiceStub,
    account: TelephonyAccount,
    account_fake: Fake,
) -> None:
    server, accepted = account_fake
    token = _token()
    accepted.add(token)
    created = (
        await credentials.create_credential(
            account.create_request(token, server.url), metadata=service.auth()
        )
    ).credential
    accepted.clear()

    checked = await credentials.verify_credential(
        VerifyCredentialRequest(id=created.id), metadata=service.auth()
    )
    disabled = await credentials.disable_credential(
        DisableCredentialRequest(id=created.id), metadata=service.auth()
    )

    assert checked.check.outcome == CheckOutcome.INVALID
    assert "rejected the credential" in checked.check.message
    assert disabled.credential.status == CredentialStatus.DISABLED


async def test_another_tenants_account_is_not_found(
    service: RunningService,
    credentials: CredentialServiceStub,
    account: TelephonyAccount,
    account_fake: Fake,
) -> None:
    server, accepted = account_fake
    token = _token()
    accepted.add(token)
    created = (
        await credentials.create_credential(
            account.create_request(token, server.url), metadata=service.auth()
        )
    ).credential
    stranger = service.auth(organization_id="org-other", project_id="project-other")

    for call in (
        credentials.get_credential(GetCredentialRequest(id=created.id), metadata=stranger),
        credentials.verify_credential(VerifyCredentialRequest(id=created.id), metadata=stranger),
        credentials.rotate_credential(
            RotateCredentialRequest(id=created.id, secret=account.secret(_token())),
            metadata=stranger,
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.install(SimpleSpanProcessor(exporter))
    yield exporter
    tracing.stop()


async def test_canary_token_is_in_no_answer_log_metric_or_trace(
    service: RunningService,
    credentials: CredentialServiceStub,
    account: TelephonyAccount,
    account_fake: Fake,
    caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    caplog.set_level(logging.DEBUG)
    server, accepted = account_fake
    server.echo_credentials = True  # the provider quotes the refused secret in full
    canary = "canary" + secrets.token_hex(16)
    answers: list[bytes] = []

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.create_credential(
            account.create_request(canary, server.url), metadata=service.auth()
        )
    accepted.add(canary)
    created = await credentials.create_credential(
        account.create_request(canary, server.url), metadata=service.auth()
    )
    accepted.clear()
    checked = await credentials.verify_credential(
        VerifyCredentialRequest(id=created.credential.id), metadata=service.auth()
    )

    answers += [bytes(created), bytes(checked), (raised.value.details() or "").encode()]
    for _name, value in raised.value.trailing_metadata() or ():
        answers.append(value if isinstance(value, bytes) else value.encode())
    exported = json.dumps([json.loads(span.to_json()) for span in spans.get_finished_spans()])
    assert checked.check.outcome == CheckOutcome.INVALID
    assert all(canary.encode() not in answer for answer in answers)
    assert canary not in caplog.text
    assert canary.encode() not in generate_latest()
    assert exported and canary not in exported
    # It did reach the provider (in the Authorization header), so its absence means something.
    assert len(server.requests_to(account.endpoint.path)) == 3


_VONAGE_WITH_BROKEN_KEY = CredentialSecret(
    vonage=VonageSecret(
        api_key=telephony_accounts.VONAGE_API_KEY,
        api_secret="s",
        application_id="aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        private_key="-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
    )
)


@pytest.mark.parametrize(
    ("provider", "secret", "region", "expected_field"),
    [
        (
            "twilio",
            CredentialSecret(twilio=TwilioSecret(account_sid="AC../../Calls", auth_token="t")),
            "",
            "secret.twilio.account_sid",
        ),
        (
            "twilio",
            CredentialSecret(
                twilio=TwilioSecret(account_sid=telephony_accounts.TWILIO_ACCOUNT_SID)
            ),
            "",
            "secret.twilio.auth_token",
        ),
        ("vonage", _VONAGE_WITH_BROKEN_KEY, "", "secret.vonage.private_key"),
        ("exotel", TELEPHONY_ACCOUNTS[4].secret("t"), "ap-south-1", "config.region"),
        ("twilio", TELEPHONY_ACCOUNTS[0].secret("t"), "us-east-1", "config.region"),
        ("plivo", TELEPHONY_ACCOUNTS[0].secret("t"), "", "secret"),
    ],
)
async def test_malformed_account_is_refused_on_its_field_before_any_request(
    service: RunningService,
    credentials: CredentialServiceStub,
    fake_url_that_must_not_be_called: str,
    provider: str,
    secret: CredentialSecret,
    region: str,
    expected_field: str,
) -> None:
    request = TELEPHONY_ACCOUNTS[0].create_request("unused", fake_url_that_must_not_be_called)
    request.provider, request.secret = provider, secret
    request.config = CredentialConfig(base_url=fake_url_that_must_not_be_called, region=region)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.create_credential(request, metadata=service.auth())

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected_field in field_violations(raised.value)


@pytest.fixture
async def fake_url_that_must_not_be_called() -> AsyncIterator[str]:
    async with FakeServer() as server:
        yield server.url
        assert server.requests == []


@pytest.mark.parametrize(
    ("secret", "expected_field"),
    [
        (
            CredentialSecret(
                twilio=TwilioSecret(account_sid=telephony_accounts.TWILIO_ACCOUNT_SID)
            ),
            "secret.twilio.auth_token",
        ),
        (TELEPHONY_ACCOUNTS[2].secret("plivo-token"), "secret"),
    ],
    ids=["without_a_token", "another_providers_secret"],
)
async def test_rotation_to_an_unusable_secret_is_refused_before_any_request(
    service: RunningService,
    credentials: CredentialServiceStub,
    secret: CredentialSecret,
    expected_field: str,
) -> None:
    twilio, token = TELEPHONY_ACCOUNTS[0], _token()
    async with FakeServer() as server:
        twilio.endpoint.install(server, {token})
        created = (
            await credentials.create_credential(
                twilio.create_request(token, server.url), metadata=service.auth()
            )
        ).credential
        rotate = RotateCredentialRequest(id=created.id, secret=secret)

        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await credentials.rotate_credential(rotate, metadata=service.auth())

        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert expected_field in field_violations(raised.value)
        assert len(server.requests) == 1  # the check of the stored token only
