"""Each provider's signature scheme against the provider's own validator: valid, tampered,
reordered, stale and missing-header webhooks get the same verdict from both, and ours says why.

These call the checkers directly (pure computation); `test_validate_webhook.py` runs the same
kinds of webhook through the service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import jwt
import pytest
from plivo.utils.signature_v3 import validate_v3_signature  # type: ignore[import-untyped]
from telnyx.lib.webhook_verification import WebhookVerificationError, verify_webhook_signature
from twilio.request_validator import (  # type: ignore[import-untyped]
    RequestValidator,
    get_signature_algorithm,
)
from vonage_jwt.verify_jwt import verify_signature  # type: ignore[import-untyped]

from integration_api.credentials.model import (
    PlivoAccount,
    TelnyxAccount,
    TwilioAccount,
    VonageAccount,
)
from integration_api.providers.plivo.webhook import CHECKER as PLIVO
from integration_api.providers.telnyx.webhook import CHECKER as TELNYX
from integration_api.providers.twilio.webhook import CHECKER as TWILIO
from integration_api.providers.vonage.webhook import CHECKER as VONAGE
from integration_api.telephony.webhooks import (
    MAX_FORM_FIELDS,
    Genuine,
    Rejected,
    Rejection,
    WebhookCheck,
)
from tests.telephony.signing import (
    SignedWebhook,
    TelnyxKeys,
    form,
    form_dict,
    plivo_webhook,
    twilio_form,
    twilio_get,
    twilio_json,
    twilio_params,
    vonage_get,
    vonage_post,
    vonage_token,
)

TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"
PLIVO_TOKEN = "plivo-auth-token-0123456789abcdef"
VONAGE_SECRET = "vonage-signature-secret-0123456789abcdef"
TWILIO_ACCOUNT = TwilioAccount(account_sid="AC" + "0" * 32, auth_token=TWILIO_TOKEN)
PLIVO_ACCOUNT = PlivoAccount(auth_id="MA0123456789", auth_token=PLIVO_TOKEN)
VONAGE_ACCOUNT = VonageAccount(api_key="abcd1234", signature_secret=VONAGE_SECRET)
CALL_FIELDS = [
    ("CallSid", "CA" + "1" * 32),
    ("From", "+15005550006"),
    ("To", "+14155551212"),
    ("CallStatus", "ringing"),
    ("Digits", "1"),
    ("Digits", "2"),
]
HOOK = "https://hooks.example.com/twilio/voice?tenant=a&x=1"
Tamper = Callable[[SignedWebhook], SignedWebhook]


def rejection(check: WebhookCheck) -> Rejection | None:
    return check.rejection if isinstance(check, Rejected) else None


def twilio_says(webhook: SignedWebhook, token: str = TWILIO_TOKEN) -> bool:
    validator = RequestValidator(token)
    signature = webhook.headers.get("X-Twilio-Signature", "")
    if webhook.method == "POST" and "bodySHA256" not in webhook.url:
        params = twilio_params(_pairs(webhook.body))
        return bool(validator.validate(webhook.url, params, signature))
    return bool(validator.validate(webhook.url, webhook.body.decode(), signature))


def _pairs(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode(), keep_blank_values=True)


def twilio_check(webhook: SignedWebhook, account: TwilioAccount = TWILIO_ACCOUNT) -> WebhookCheck:
    return TWILIO.check(webhook.domain(), account, time.time())


class TestTwilio:
    def test_a_signed_form_is_genuine(self) -> None:
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS)
        assert twilio_says(webhook)
        check = twilio_check(webhook)
        assert isinstance(check, Genuine)
        assert check.signed_at is None

    def test_reordered_fields_are_the_same_webhook(self) -> None:
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS)
        reordered = replace(webhook, body=form(list(reversed(CALL_FIELDS))))
        assert twilio_says(reordered)
        assert isinstance(twilio_check(reordered), Genuine)

    @pytest.mark.parametrize(
        "tampered",
        [
            lambda w: replace(w, body=w.body.replace(b"ringing", b"completed")),
            lambda w: replace(w, body=w.body + b"&Extra=1"),
            lambda w: replace(w, url=w.url.replace("x=1", "x=2")),
            lambda w: replace(w, url=w.url.replace("https://", "http://")),
        ],
        ids=["field-value", "added-field", "query", "scheme"],
    )
    def test_a_tampered_form_is_a_mismatch(self, tampered: Tamper) -> None:
        webhook = tampered(twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS))
        assert not twilio_says(webhook)
        assert rejection(twilio_check(webhook)) == Rejection.SIGNATURE_MISMATCH

    @pytest.mark.parametrize(
        ("signed_url", "received_url"),
        [
            ("https://hooks.example.com/voice", "https://hooks.example.com:443/voice"),
            ("https://hooks.example.com:443/voice", "https://hooks.example.com/voice"),
        ],
    )
    def test_the_default_port_may_be_signed_or_not(
        self, signed_url: str, received_url: str
    ) -> None:
        webhook = replace(twilio_form(TWILIO_TOKEN, signed_url, CALL_FIELDS), url=received_url)
        assert twilio_says(webhook)
        assert isinstance(twilio_check(webhook), Genuine)

    def test_a_json_body_is_covered_by_its_hash_in_the_url(self) -> None:
        webhook = twilio_json(TWILIO_TOKEN, HOOK, b'{"CallSid":"CA1","status":"ringing"}')
        assert twilio_says(webhook)
        assert isinstance(twilio_check(webhook), Genuine)
        tampered = replace(webhook, body=b'{"CallSid":"CA1","status":"completed"}')
        assert not twilio_says(tampered)
        assert rejection(twilio_check(tampered)) == Rejection.PAYLOAD_HASH_MISMATCH

    def test_a_json_body_without_its_hash_is_not_covered(self) -> None:
        webhook = twilio_get(TWILIO_TOKEN, HOOK)
        with_body = replace(
            webhook,
            method="POST",
            body=b'{"a":1}',
            headers={**webhook.headers, "Content-Type": "application/json"},
        )
        assert rejection(twilio_check(with_body)) == Rejection.SIGNATURE_MISMATCH

    def test_a_signed_get_is_genuine(self) -> None:
        webhook = twilio_get(TWILIO_TOKEN, HOOK + "&CallSid=CA1")
        assert twilio_says(webhook)
        assert isinstance(twilio_check(webhook), Genuine)

    def test_another_token_is_a_mismatch(self) -> None:
        webhook = twilio_form("another-token-0123456789abcdef", HOOK, CALL_FIELDS)
        assert not twilio_says(webhook)
        assert rejection(twilio_check(webhook)) == Rejection.SIGNATURE_MISMATCH

    def test_a_form_of_more_fields_than_a_provider_sends_is_refused(self) -> None:
        fields = [(f"k{number}", "v") for number in range(MAX_FORM_FIELDS + 1)]
        webhook = twilio_form(TWILIO_TOKEN, HOOK, fields)
        assert rejection(twilio_check(webhook)) == Rejection.SIGNATURE_MISMATCH
        assert isinstance(twilio_check(twilio_form(TWILIO_TOKEN, HOOK, fields[:-1])), Genuine)

    def test_a_missing_signature_is_named(self) -> None:
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS).with_headers(X_Twilio_Signature=None)
        assert not twilio_says(webhook)
        check = twilio_check(webhook)
        assert rejection(check) == Rejection.MISSING_HEADER
        assert "X-Twilio-Signature" in check.detail

    def test_a_signature_that_is_not_base64_is_malformed(self) -> None:
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS).with_headers(
            X_Twilio_Signature="not base64!"
        )
        assert rejection(twilio_check(webhook)) == Rejection.MALFORMED_SIGNATURE

    def test_an_api_key_alone_cannot_check_signatures(self) -> None:
        account = TwilioAccount(account_sid="AC1", api_key_sid="SK1", api_key_secret="s" * 32)
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS)
        assert rejection(twilio_check(webhook, account)) == Rejection.NO_SIGNING_SECRET

    def test_a_shared_key_signature_is_not_the_auth_token(self) -> None:
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS).with_headers(
            X_Twilio_Webhooks_Signature_Settings="key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
        )
        assert rejection(twilio_check(webhook)) == Rejection.NO_SIGNING_SECRET

    def test_an_empty_signature_settings_header_means_the_auth_token(self) -> None:
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS).with_headers(
            X_Twilio_Webhooks_Signature_Settings=""
        )
        algorithm = get_signature_algorithm(webhook.header("X-Twilio-Webhooks-Signature-Settings"))
        assert RequestValidator(TWILIO_TOKEN).validate(
            webhook.url, twilio_params(CALL_FIELDS), webhook.header("X-Twilio-Signature"), algorithm
        )
        assert isinstance(twilio_check(webhook), Genuine)

    def test_an_algorithm_twilio_refuses_is_unsupported(self) -> None:
        webhook = twilio_form(TWILIO_TOKEN, HOOK, CALL_FIELDS).with_headers(
            X_Twilio_Webhooks_Signature_Settings="key=k1,algorithm=HMAC_MD5"
        )
        signature = webhook.header("X-Twilio-Signature")
        params = twilio_params(CALL_FIELDS)
        assert not RequestValidator(TWILIO_TOKEN).validate(
            webhook.url, params, signature, "HMAC_MD5"
        )
        assert rejection(twilio_check(webhook)) == Rejection.UNSUPPORTED_ALGORITHM


def plivo_says(webhook: SignedWebhook) -> bool:
    params = form_dict(_pairs(webhook.body)) if webhook.method == "POST" else {}
    return bool(
        validate_v3_signature(
            webhook.method,
            webhook.url,
            webhook.headers.get("X-Plivo-Signature-V3-Nonce", ""),
            PLIVO_TOKEN,
            webhook.headers.get("X-Plivo-Signature-V3", ""),
            params,
        )
    )


def plivo_check(webhook: SignedWebhook) -> WebhookCheck:
    return PLIVO.check(webhook.domain(), PLIVO_ACCOUNT, time.time())


PLIVO_HOOK = "https://hooks.example.com/plivo/answer?b=2&a=1"
PLIVO_FIELDS = [("CallUUID", "c0ffee"), ("From", "14155550100"), ("Event", "StartApp")]


class TestPlivo:
    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_a_signed_callback_is_genuine(self, method: str) -> None:
        webhook = plivo_webhook(PLIVO_TOKEN, method, PLIVO_HOOK, PLIVO_FIELDS)
        assert plivo_says(webhook)
        assert isinstance(plivo_check(webhook), Genuine)

    def test_a_post_without_a_query_is_genuine(self) -> None:
        webhook = plivo_webhook(PLIVO_TOKEN, "POST", "https://hooks.example.com/p", PLIVO_FIELDS)
        assert plivo_says(webhook)
        assert isinstance(plivo_check(webhook), Genuine)

    def test_reordered_fields_and_query_are_the_same_callback(self) -> None:
        webhook = plivo_webhook(PLIVO_TOKEN, "POST", PLIVO_HOOK, PLIVO_FIELDS)
        reordered = replace(
            webhook,
            url="https://hooks.example.com/plivo/answer?a=1&b=2",
            body=form(list(reversed(PLIVO_FIELDS))),
        )
        assert plivo_says(reordered)
        assert isinstance(plivo_check(reordered), Genuine)

    def test_one_of_several_signatures_is_enough(self) -> None:
        webhook = plivo_webhook(
            PLIVO_TOKEN, "POST", PLIVO_HOOK, PLIVO_FIELDS, other_tokens=("subaccount-token-1",)
        )
        assert plivo_says(webhook)
        assert isinstance(plivo_check(webhook), Genuine)

    @pytest.mark.parametrize(
        "tampered",
        [
            lambda w: replace(w, body=w.body.replace(b"StartApp", b"Hangup")),
            lambda w: replace(w, url=w.url.replace("a=1", "a=3")),
            lambda w: w.with_headers(X_Plivo_Signature_V3_Nonce="12345"),
        ],
        ids=["body", "query", "nonce"],
    )
    def test_a_tampered_callback_is_a_mismatch(self, tampered: Tamper) -> None:
        webhook = tampered(plivo_webhook(PLIVO_TOKEN, "POST", PLIVO_HOOK, PLIVO_FIELDS))
        assert not plivo_says(webhook)
        assert rejection(plivo_check(webhook)) == Rejection.SIGNATURE_MISMATCH

    @pytest.mark.parametrize("header", ["X_Plivo_Signature_V3", "X_Plivo_Signature_V3_Nonce"])
    def test_a_missing_header_is_named(self, header: str) -> None:
        webhook = plivo_webhook(PLIVO_TOKEN, "GET", PLIVO_HOOK).with_headers(**{header: None})
        assert not plivo_says(webhook)
        check = plivo_check(webhook)
        assert rejection(check) == Rejection.MISSING_HEADER
        assert header.replace("_", "-") in check.detail

    def test_a_form_of_more_fields_than_a_provider_sends_is_refused(self) -> None:
        fields = [(f"k{number}", "v") for number in range(MAX_FORM_FIELDS + 1)]
        webhook = plivo_webhook(PLIVO_TOKEN, "POST", PLIVO_HOOK, fields)
        assert rejection(plivo_check(webhook)) == Rejection.SIGNATURE_MISMATCH
        fewer = plivo_webhook(PLIVO_TOKEN, "POST", PLIVO_HOOK, fields[:-1])
        assert isinstance(plivo_check(fewer), Genuine)

    @pytest.mark.parametrize(
        "body", [b"[" * 100_000, b'{"a":' * 100_000], ids=["arrays", "objects"]
    )
    def test_a_json_body_nested_past_the_parser_is_a_mismatch(self, body: bytes) -> None:
        webhook = replace(
            plivo_webhook(PLIVO_TOKEN, "POST", PLIVO_HOOK, PLIVO_FIELDS), body=body
        ).with_headers(Content_Type="application/json")
        assert rejection(plivo_check(webhook)) == Rejection.SIGNATURE_MISMATCH

    def test_a_signature_that_is_not_base64_is_malformed(self) -> None:
        webhook = plivo_webhook(PLIVO_TOKEN, "GET", PLIVO_HOOK).with_headers(
            X_Plivo_Signature_V3="%%%,???"
        )
        assert rejection(plivo_check(webhook)) == Rejection.MALFORMED_SIGNATURE


def telnyx_says(webhook: SignedWebhook, keys: TelnyxKeys) -> bool:
    try:
        verify_webhook_signature(webhook.body, webhook.headers, keys.public_base64)
    except WebhookVerificationError:
        return False
    return True


def telnyx_check(webhook: SignedWebhook, keys: TelnyxKeys) -> WebhookCheck:
    account = TelnyxAccount(api_key="KEY0123456789", public_key=keys.public_base64)
    return TELNYX.check(webhook.domain(), account, time.time())


TELNYX_EVENT = json.dumps(
    {"data": {"event_type": "call.initiated", "payload": {"call_control_id": "v3:abc"}}}
).encode()


class TestTelnyx:
    def test_a_signed_event_is_genuine_and_dated(self) -> None:
        keys = TelnyxKeys.generate()
        webhook = keys.sign(TELNYX_EVENT)
        assert telnyx_says(webhook, keys)
        check = telnyx_check(webhook, keys)
        assert isinstance(check, Genuine)
        assert check.signed_at is not None
        assert abs(check.signed_at.timestamp() - int(webhook.header("telnyx-timestamp"))) < 1
        assert 290 <= check.remember_seconds <= 302

    def test_a_tampered_body_is_a_mismatch(self) -> None:
        keys = TelnyxKeys.generate()
        webhook = keys.sign(TELNYX_EVENT)
        tampered = replace(webhook, body=webhook.body.replace(b"initiated", b"hangup"))
        assert not telnyx_says(tampered, keys)
        assert rejection(telnyx_check(tampered, keys)) == Rejection.SIGNATURE_MISMATCH

    def test_another_accounts_key_is_a_mismatch(self) -> None:
        webhook = TelnyxKeys.generate().sign(TELNYX_EVENT)
        keys = TelnyxKeys.generate()
        assert not telnyx_says(webhook, keys)
        assert rejection(telnyx_check(webhook, keys)) == Rejection.SIGNATURE_MISMATCH

    @pytest.mark.parametrize("offset", [-301, 301], ids=["old", "future"])
    def test_outside_300_seconds_is_stale(self, offset: int) -> None:
        keys = TelnyxKeys.generate()
        webhook = keys.sign(TELNYX_EVENT, int(time.time()) + offset)
        assert not telnyx_says(webhook, keys)
        check = telnyx_check(webhook, keys)
        assert rejection(check) == Rejection.STALE_TIMESTAMP
        assert check.signed_at is not None

    def test_a_moved_timestamp_is_a_mismatch(self) -> None:
        keys = TelnyxKeys.generate()
        webhook = keys.sign(TELNYX_EVENT, int(time.time()) - 400)
        moved = webhook.with_headers(telnyx_timestamp=str(int(time.time())))
        assert not telnyx_says(moved, keys)
        assert rejection(telnyx_check(moved, keys)) == Rejection.SIGNATURE_MISMATCH

    @pytest.mark.parametrize("header", ["telnyx_signature_ed25519", "telnyx_timestamp"])
    def test_a_missing_header_is_named(self, header: str) -> None:
        keys = TelnyxKeys.generate()
        webhook = keys.sign(TELNYX_EVENT).with_headers(**{header: None})
        assert not telnyx_says(webhook, keys)
        check = telnyx_check(webhook, keys)
        assert rejection(check) == Rejection.MISSING_HEADER
        assert header.replace("_", "-") in check.detail

    @pytest.mark.parametrize(
        "headers",
        [
            {"telnyx_signature_ed25519": "c2hvcnQ="},
            {"telnyx_timestamp": "soon"},
            {"telnyx_timestamp": "\u00b2"},
            {"telnyx_timestamp": "9" * 5000},
        ],
        ids=["short-signature", "timestamp", "superscript-digit", "too-many-digits"],
    )
    def test_unreadable_headers_are_malformed(self, headers: dict[str, str]) -> None:
        keys = TelnyxKeys.generate()
        webhook = keys.sign(TELNYX_EVENT).with_headers(**headers)
        assert not telnyx_says(webhook, keys)
        assert rejection(telnyx_check(webhook, keys)) == Rejection.MALFORMED_SIGNATURE

    def test_no_public_key_cannot_check(self) -> None:
        webhook = TelnyxKeys.generate().sign(TELNYX_EVENT)
        account = TelnyxAccount(api_key="KEY0123456789")
        check = TELNYX.check(webhook.domain(), account, time.time())
        assert rejection(check) == Rejection.NO_SIGNING_SECRET


VONAGE_EVENT = b'{"uuid":"aaaa-bbbb","status":"answered","direction":"outbound"}'


def vonage_check(webhook: SignedWebhook) -> WebhookCheck:
    return VONAGE.check(webhook.domain(), VONAGE_ACCOUNT, time.time())


def vonage_signature_holds(webhook: SignedWebhook, secret: str = VONAGE_SECRET) -> bool:
    """Vonage's validator checks the token's signature (and PyJWT its `exp`) only."""
    token = webhook.header("Authorization").removeprefix("Bearer ")
    try:
        return bool(verify_signature(token, secret))
    except Exception:  # noqa: BLE001 - the validator raises for anything but a bad signature
        return False


class TestVonage:
    def test_a_signed_event_is_genuine_and_dated(self) -> None:
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT)
        assert vonage_signature_holds(webhook)
        check = vonage_check(webhook)
        assert isinstance(check, Genuine)
        assert check.replay_id.startswith("vonage-jti:")
        assert check.signed_at is not None

    def test_a_signed_get_hashes_its_query_in_order(self) -> None:
        webhook = vonage_get(VONAGE_SECRET, [("to", "447700900000"), ("from", "447700900001")])
        assert vonage_signature_holds(webhook)
        assert isinstance(vonage_check(webhook), Genuine)
        reordered = replace(
            webhook,
            url=webhook.url.split("?")[0]
            + "?"
            + urlencode([("from", "447700900001"), ("to", "447700900000")]),
        )
        assert rejection(vonage_check(reordered)) == Rejection.PAYLOAD_HASH_MISMATCH

    def test_a_tampered_body_fails_the_payload_hash(self) -> None:
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT)
        tampered = replace(webhook, body=VONAGE_EVENT.replace(b"answered", b"completed"))
        assert vonage_signature_holds(tampered)  # the token itself is untouched
        assert rejection(vonage_check(tampered)) == Rejection.PAYLOAD_HASH_MISMATCH

    def test_a_body_hashed_in_its_compact_form_is_genuine(self) -> None:
        spaced = json.dumps(json.loads(VONAGE_EVENT), indent=2).encode()
        token = vonage_token(VONAGE_SECRET, VONAGE_EVENT)
        webhook = replace(
            vonage_post(VONAGE_SECRET, spaced), headers={"Authorization": f"Bearer {token}"}
        )
        assert isinstance(vonage_check(webhook), Genuine)

    def test_a_body_nested_past_the_parser_is_checked_by_its_raw_hash(self) -> None:
        nested = b"[" * 100_000
        webhook = vonage_post(VONAGE_SECRET, nested)
        assert isinstance(vonage_check(webhook), Genuine)
        tampered = replace(webhook, body=nested + b"]")
        assert rejection(vonage_check(tampered)) == Rejection.PAYLOAD_HASH_MISMATCH

    def test_another_secret_is_a_mismatch(self) -> None:
        webhook = vonage_post("another-signature-secret-0123456789abcdef", VONAGE_EVENT)
        assert not vonage_signature_holds(webhook)
        assert rejection(vonage_check(webhook)) == Rejection.SIGNATURE_MISMATCH

    @pytest.mark.parametrize(
        "claims",
        [{"iat": int(time.time()) - 600}, {"exp": int(time.time()) - 60}],
        ids=["issued-long-ago", "expired"],
    )
    def test_an_old_token_is_stale(self, claims: dict[str, int]) -> None:
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT, **claims)
        assert rejection(vonage_check(webhook)) == Rejection.STALE_TIMESTAMP

    def test_an_expired_token_fails_the_validator_too(self) -> None:
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT, exp=int(time.time()) - 60)
        assert not vonage_signature_holds(webhook)

    def test_a_token_without_payload_hash_does_not_cover_a_body(self) -> None:
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT, payload_hash=None)
        assert rejection(vonage_check(webhook)) == Rejection.PAYLOAD_HASH_MISMATCH

    def test_another_algorithm_is_unsupported(self) -> None:
        token = jwt.encode({"iat": int(time.time())}, "k" * 64, algorithm="HS512")
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT).with_headers(
            Authorization=f"Bearer {token}"
        )
        assert not vonage_signature_holds(webhook)
        assert rejection(vonage_check(webhook)) == Rejection.UNSUPPORTED_ALGORITHM

    @pytest.mark.parametrize(
        ("authorization", "expected"),
        [
            (None, Rejection.MISSING_HEADER),
            ("Basic dXNlcjpwYXNz", Rejection.MALFORMED_SIGNATURE),
            ("Bearer not.a-token", Rejection.MALFORMED_SIGNATURE),
            ("Bearer a.b.c", Rejection.MALFORMED_SIGNATURE),
        ],
    )
    def test_an_unreadable_authorization_says_so(
        self, authorization: str | None, expected: Rejection
    ) -> None:
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT).with_headers(Authorization=authorization)
        assert rejection(vonage_check(webhook)) == expected

    def test_a_short_secret_is_checked_without_warnings(self) -> None:
        secret = "shortsecret"
        digest = hashlib.sha256(VONAGE_EVENT).hexdigest()
        token = _hs256({"iat": int(time.time()), "jti": "j1", "payload_hash": digest}, secret)
        webhook = vonage_post(VONAGE_SECRET, VONAGE_EVENT).with_headers(
            Authorization=f"Bearer {token}"
        )
        account = VonageAccount(api_key="abcd1234", signature_secret=secret)
        assert isinstance(VONAGE.check(webhook.domain(), account, time.time()), Genuine)


def _hs256(claims: dict[str, object], secret: str) -> str:
    """An HS256 token made without PyJWT (which warns on keys shorter than 32 bytes)."""

    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = segment(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = segment(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{segment(mac)}"
