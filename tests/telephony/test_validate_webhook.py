"""ValidateWebhook through the service: every provider's genuine webhook is valid once and
`replayed` after that, a tampered one is refused with its reason, Exotel and non-telephony
credentials are refused as unsupported, and another tenant's credential does not exist."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CredentialSecret,
    DisableCredentialRequest,
    PlivoSecret,
    TwilioSecret,
    ValidateWebhookRequest,
    ValidateWebhookResponse,
    WebhookHeader,
    WebhookRejection,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    TelephonyServiceStub,
)

from tests.credentials.helpers import error_info, field_violations
from tests.fakes import telephony_accounts
from tests.support.service import RunningService
from tests.telephony.conftest import (
    PLIVO_TOKEN,
    TWILIO_TOKEN,
    VONAGE_SIGNATURE_SECRET,
    PhoneAccounts,
    secrets_by_provider,
    store,
)
from tests.telephony.signing import (
    SignedWebhook,
    plivo_webhook,
    twilio_form,
    twilio_json,
    vonage_get,
    vonage_post,
)

CALL_FIELDS = [("CallSid", "CA" + "2" * 32), ("CallStatus", "in-progress"), ("From", "+1500")]
SUBACCOUNT = "plivo-subaccount-token-" + "8" * 16
EVENT = json.dumps({"data": {"event_type": "call.answered", "id": "e1"}}).encode()


def genuine(provider: str, accounts: PhoneAccounts) -> SignedWebhook:
    """A fresh genuine webhook of the provider (each call makes a new one)."""
    unique = str(time.monotonic_ns())
    if provider == "twilio":
        return twilio_form(TWILIO_TOKEN, f"https://hooks.example.com/t?n={unique}", CALL_FIELDS)
    if provider == "plivo":
        return plivo_webhook(PLIVO_TOKEN, "POST", "https://hooks.example.com/p", CALL_FIELDS)
    if provider == "vonage":
        return vonage_post(VONAGE_SIGNATURE_SECRET, EVENT)
    return accounts.telnyx_keys.sign(EVENT.replace(b"e1", unique.encode()))


def tampered(webhook: SignedWebhook) -> SignedWebhook:
    """The webhook with one byte added to its body (the last form value, or after the JSON)."""
    return replace(webhook, body=webhook.body + b"x")


TAMPERED_REASON = {
    "twilio": WebhookRejection.SIGNATURE_MISMATCH,
    "plivo": WebhookRejection.SIGNATURE_MISMATCH,
    "vonage": WebhookRejection.PAYLOAD_HASH_MISMATCH,
    "telnyx": WebhookRejection.SIGNATURE_MISMATCH,
}
SIGNED_PROVIDERS = list(TAMPERED_REASON)


async def validate(
    telephony: TelephonyServiceStub,
    service: RunningService,
    credential_id: str,
    webhook: SignedWebhook,
) -> ValidateWebhookResponse:
    return await telephony.validate_webhook(webhook.request(credential_id), metadata=service.auth())


@pytest.mark.parametrize("provider", SIGNED_PROVIDERS)
async def test_a_genuine_webhook_is_valid_once_then_replayed(
    provider: str,
    service: RunningService,
    accounts: PhoneAccounts,
    telephony: TelephonyServiceStub,
) -> None:
    webhook = genuine(provider, accounts)
    credential_id = accounts.ids[provider]
    forged = await validate(telephony, service, credential_id, tampered(webhook))
    assert not forged.valid
    assert forged.rejection == TAMPERED_REASON[provider]
    assert forged.reason == TAMPERED_REASON[provider].name.lower()

    first = await validate(telephony, service, credential_id, webhook)
    assert first.valid, first.detail  # the forgery did not make the genuine one look seen
    assert (first.reason, first.detail, first.rejection) == ("", "", WebhookRejection.UNSPECIFIED)
    again = await validate(telephony, service, credential_id, webhook)
    assert not again.valid
    assert again.rejection == WebhookRejection.REPLAYED
    assert again.reason == "replayed"


async def test_signed_times_are_reported(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    webhook = accounts.telnyx_keys.sign(EVENT, int(time.time()) - 10)
    answer = await validate(telephony, service, accounts.ids["telnyx"], webhook)
    assert answer.valid
    assert answer.signed_at is not None
    assert abs(answer.signed_at.timestamp() - (time.time() - 10)) < 5


async def test_a_stale_telnyx_webhook_is_refused_with_its_time(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    webhook = accounts.telnyx_keys.sign(EVENT, int(time.time()) - 3600)
    answer = await validate(telephony, service, accounts.ids["telnyx"], webhook)
    assert (answer.valid, answer.rejection) == (False, WebhookRejection.STALE_TIMESTAMP)
    assert answer.signed_at is not None


async def test_a_vonage_get_webhook_is_checked_over_its_query(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    webhook = vonage_get(VONAGE_SIGNATURE_SECRET, [("to", "447700900000"), ("uuid", "u1")])
    assert (await validate(telephony, service, accounts.ids["vonage"], webhook)).valid
    moved = replace(webhook, url=webhook.url.replace("u1", "u2"))
    answer = await validate(telephony, service, accounts.ids["vonage"], moved)
    assert answer.rejection == WebhookRejection.PAYLOAD_HASH_MISMATCH


async def test_a_twilio_json_webhook_is_checked_through_its_body_hash(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    webhook = twilio_json(TWILIO_TOKEN, "https://hooks.example.com/j", EVENT)
    assert (await validate(telephony, service, accounts.ids["twilio"], webhook)).valid


@pytest.mark.parametrize(
    ("provider", "header"),
    [
        ("twilio", "X-Twilio-Signature"),
        ("plivo", "X-Plivo-Signature-V3-Nonce"),
        ("vonage", "Authorization"),
        ("telnyx", "telnyx-signature-ed25519"),
    ],
)
async def test_a_missing_header_is_named(
    provider: str,
    header: str,
    service: RunningService,
    accounts: PhoneAccounts,
    telephony: TelephonyServiceStub,
) -> None:
    webhook = genuine(provider, accounts).with_headers(**{header.replace("-", "_"): None})
    answer = await validate(telephony, service, accounts.ids[provider], webhook)
    assert (answer.valid, answer.rejection) == (False, WebhookRejection.MISSING_HEADER)
    assert header.lower() in answer.detail.lower()


async def test_header_names_are_matched_whatever_their_case(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    webhook = genuine("twilio", accounts)
    shouted = replace(webhook, headers={k.upper(): v for k, v in webhook.headers.items()})
    assert (await validate(telephony, service, accounts.ids["twilio"], shouted)).valid


async def test_a_twilio_api_key_alone_cannot_check_webhooks(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    api_key_only = CredentialSecret(
        twilio=TwilioSecret(
            account_sid=telephony_accounts.TWILIO_ACCOUNT_SID,
            api_key_sid=telephony_accounts.TWILIO_API_KEY_SID,
            api_key_secret="twilio-api-key-secret-0001",
        )
    )
    credential_id = await store(service, "twilio", api_key_only)
    answer = await validate(telephony, service, credential_id, genuine("twilio", accounts))
    assert (answer.valid, answer.rejection) == (False, WebhookRejection.NO_SIGNING_SECRET)


async def test_exotel_is_refused_as_unsigned(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    webhook = genuine("twilio", accounts)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await validate(telephony, service, accounts.ids["exotel"], webhook)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(raised.value).reason == "CAPABILITY_NOT_SUPPORTED"
    assert "Exotel documents no signature" in (raised.value.details() or "")


async def test_a_credential_of_another_kind_is_refused_as_unsupported(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    secret = CredentialSecret(api_key=ApiKeySecret(key="sk-not-a-phone-0001"))
    credential_id = await store(service, "openai", secret)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await validate(telephony, service, credential_id, genuine("twilio", accounts))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(raised.value).reason == "CAPABILITY_NOT_SUPPORTED"


async def test_another_tenants_credential_is_not_found_like_a_missing_one(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    webhook = genuine("twilio", accounts)
    other_tenant = service.auth(organization_id="org-other", project_id="project-other")
    answers: list[grpc.aio.AioRpcError] = []
    for credential_id in (accounts.ids["twilio"], "00000000-0000-0000-0000-000000000000"):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await telephony.validate_webhook(webhook.request(credential_id), metadata=other_tenant)
        answers.append(raised.value)
    assert [error.code() for error in answers] == [grpc.StatusCode.NOT_FOUND] * 2
    assert answers[0].details() == answers[1].details().replace(
        "00000000-0000-0000-0000-000000000000", accounts.ids["twilio"]
    )
    # The owner's webhook was not remembered by the other tenant's attempt.
    assert (await validate(telephony, service, accounts.ids["twilio"], webhook)).valid


Change = Callable[[ValidateWebhookRequest], None]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: setattr(r, "method", "PUT"), "method"),
        (lambda r: setattr(r, "url", "/relative/path"), "url"),
        (lambda r: setattr(r, "url", "ftp://hooks.example.com/x"), "url"),
        (lambda r: setattr(r, "url", "https://hooks.example.com/" + "x" * 9000), "url"),
        (lambda r: setattr(r, "credential_id", ""), "credential_id"),
        (lambda r: r.headers.extend([WebhookHeader(name="x", value="y")] * 200), "headers"),
        (lambda r: r.headers.append(WebhookHeader(name="", value="y")), "headers[3].name"),
        (lambda r: setattr(r, "body", b"k=v&" * 100_000), "body"),
    ],
    ids=[
        "method",
        "relative-url",
        "scheme",
        "long-url",
        "no-credential",
        "headers",
        "name",
        "huge-body",
    ],
)
async def test_requests_out_of_bounds_are_invalid_arguments(
    change: Change,
    field: str,
    service: RunningService,
    accounts: PhoneAccounts,
    telephony: TelephonyServiceStub,
) -> None:
    request = genuine("twilio", accounts).request(accounts.ids["twilio"])
    request.headers.append(WebhookHeader(name="Host", value="hooks.example.com"))
    change(request)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await telephony.validate_webhook(request, metadata=service.auth())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(raised.value)


async def test_a_disabled_credential_checks_nothing(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    secret = secrets_by_provider(accounts.telnyx_keys)["telnyx"]
    credential_id = await store(service, "telnyx", secret)
    await CredentialServiceStub(service.channel).disable_credential(
        DisableCredentialRequest(id=credential_id, reason="incident"), metadata=service.auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await validate(telephony, service, credential_id, genuine("telnyx", accounts))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(raised.value).reason == "CREDENTIAL_DISABLED"


@pytest.mark.parametrize("provider", ["twilio", "plivo"])
async def test_a_webhook_accepted_under_one_credential_is_replayed_under_another(
    provider: str,
    service: RunningService,
    accounts: PhoneAccounts,
    telephony: TelephonyServiceStub,
) -> None:
    """The same account stored twice (a credential rotated in beside the old one), or Plivo's
    webhook signed for both an account and its subaccount: one delivery is accepted once."""
    if provider == "twilio":
        twin_secret = secrets_by_provider(accounts.telnyx_keys)["twilio"]
        webhook = genuine("twilio", accounts)
    else:
        twin_secret = CredentialSecret(
            plivo=PlivoSecret(auth_id=telephony_accounts.PLIVO_AUTH_ID, auth_token=SUBACCOUNT)
        )
        webhook = plivo_webhook(
            PLIVO_TOKEN, "POST", "https://hooks.example.com/p", CALL_FIELDS, (SUBACCOUNT,)
        )
    twin = await store(service, provider, twin_secret)
    assert (await validate(telephony, service, accounts.ids[provider], webhook)).valid
    again = await validate(telephony, service, twin, webhook)
    assert (again.valid, again.rejection) == (False, WebhookRejection.REPLAYED)


async def test_a_webhook_accepted_by_one_tenant_is_still_new_to_another(
    service: RunningService, accounts: PhoneAccounts, telephony: TelephonyServiceStub
) -> None:
    other = {"organization_id": "org-twin", "project_id": "project-twin"}
    secret = secrets_by_provider(accounts.telnyx_keys)["twilio"]
    theirs = await store(service, "twilio", secret, **other)
    webhook = genuine("twilio", accounts)
    assert (await validate(telephony, service, accounts.ids["twilio"], webhook)).valid
    answer = await telephony.validate_webhook(
        webhook.request(theirs), metadata=service.auth(**other)
    )
    assert answer.valid
