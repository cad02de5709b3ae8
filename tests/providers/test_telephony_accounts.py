"""Telephony accounts: where each provider's key goes (regional hosts included), how it
authenticates, what a storable secret looks like, and the verdicts of the account reads."""

from __future__ import annotations

import base64

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from integration_api.credentials.model import (
    CredentialConfig,
    ExotelAccount,
    PlivoAccount,
    ProviderCredential,
    SecretMaterial,
    TelnyxAccount,
    TwilioAccount,
    VonageAccount,
)
from integration_api.errors import InvalidArgument
from integration_api.providers.egress import EgressPolicy
from integration_api.providers.exotel import account as exotel
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.plivo import account as plivo
from integration_api.providers.registry import get_provider, telephony_capabilities_for
from integration_api.providers.telnyx import account as telnyx
from integration_api.providers.telnyx import verification as telnyx_verification
from integration_api.providers.twilio import account as twilio
from integration_api.providers.twilio import verification as twilio_verification
from integration_api.providers.vonage import account as vonage
from integration_api.providers.vonage import verification as vonage_verification
from tests.fakes import telephony_accounts
from tests.fakes.server import FakeServer, Handler, json_response

STRICT = EgressPolicy()
SID = telephony_accounts.TWILIO_ACCOUNT_SID


def _credential(
    provider: str, secret: SecretMaterial, region: str = "", **extra: str
) -> ProviderCredential:
    config = CredentialConfig(region=region, extra=extra)
    return ProviderCredential(id="c1", provider=provider, config=config, secret=secret)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


RSA_PEM = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
EC_PEM = _pem(ec.generate_private_key(ec.SECP256R1()))
APPLICATION_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def _twilio(region: str = "") -> ProviderCredential:
    return _credential("twilio", TwilioAccount(SID, "t"), region)


def _vonage(region: str = "") -> ProviderCredential:
    return _credential("vonage", VonageAccount("k", "s"), region)


def _exotel(region: str = "") -> ProviderCredential:
    return _credential("exotel", ExotelAccount("k", "t", "acme"), region)


@pytest.mark.parametrize(
    ("provider", "url", "expected"),
    [
        (
            "twilio",
            twilio.account_url(_twilio()),
            f"https://api.twilio.com/2010-04-01/Accounts/{SID}",
        ),
        (
            "twilio",
            twilio.account_url(_twilio("ie1"), "Calls.json"),
            f"https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/{SID}/Calls.json",
        ),
        (
            "twilio",
            twilio.account_url(_twilio("au1")),
            f"https://api.sydney.au1.twilio.com/2010-04-01/Accounts/{SID}",
        ),
        ("vonage", vonage.voice_url(_vonage(), "calls"), "https://api.nexmo.com/v1/calls"),
        (
            "vonage",
            vonage.voice_url(_vonage("eu-west"), "calls"),
            "https://api-eu-3.vonage.com/v1/calls",
        ),
        ("vonage", vonage.rest_base_url(_vonage("eu-west")), "https://rest.nexmo.com"),
        (
            "plivo",
            plivo.account_url(_credential("plivo", PlivoAccount("MA1", "t")), "Call/"),
            "https://api.plivo.com/v1/Account/MA1/Call/",
        ),
        (
            "telnyx",
            telnyx.api_url(_credential("telnyx", TelnyxAccount("KEY")), "calls"),
            "https://api.telnyx.com/v2/calls",
        ),
        ("exotel", exotel.account_url(_exotel()), "https://api.exotel.com/v1/Accounts/acme"),
        (
            "exotel",
            exotel.account_url(_exotel("in"), "Calls/connect"),
            "https://api.in.exotel.com/v1/Accounts/acme/Calls/connect",
        ),
    ],
)
def test_default_and_regional_urls_are_the_providers_own_and_allowed_by_egress(
    provider: str, url: str, expected: str
) -> None:
    assert url == expected
    assert STRICT.refusal_for_url(provider, url) is None


@pytest.mark.parametrize(
    ("provider", "host"),
    [
        ("twilio", "api.ie1.twilio.com"),
        ("twilio", "evil.twilio.com"),
        ("twilio", "api.twilio.com.evil.example"),
        ("vonage", "api-us-9.vonage.com"),
        ("vonage", "attacker.vonage.com"),
        ("plivo", "api.plivo.com.evil.example"),
        ("telnyx", "api.telnyx.co"),
        ("exotel", "api.us.exotel.com"),
        ("exotel", "my.exotel.com"),
    ],
)
def test_other_hosts_under_a_telephony_providers_domain_are_refused(
    provider: str, host: str
) -> None:
    assert STRICT.refusal_for_url(provider, f"https://{host}/v1") == f"not a host of {provider}"


def test_twilio_prefers_the_api_key_over_the_auth_token() -> None:
    with_key = TwilioAccount(SID, "token", telephony_accounts.TWILIO_API_KEY_SID, "key-secret")

    headers = twilio.auth_headers(_credential("twilio", with_key))

    assert headers == {"Authorization": _basic(telephony_accounts.TWILIO_API_KEY_SID, "key-secret")}
    assert twilio.basic_pair(_credential("twilio", TwilioAccount(SID, "token"))) == (SID, "token")


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        (_credential("plivo", PlivoAccount("MA1", "t")), _basic("MA1", "t")),
        (_credential("exotel", ExotelAccount("k", "t", "acme")), _basic("k", "t")),
        (_credential("telnyx", TelnyxAccount("KEY")), "Bearer KEY"),
    ],
)
def test_rest_calls_authenticate_with_the_providers_scheme(
    credential: ProviderCredential, expected: str
) -> None:
    module = {"plivo": plivo, "exotel": exotel, "telnyx": telnyx}[credential.provider]
    assert module.auth_headers(credential) == {"Authorization": expected}
    assert vonage.basic_auth_headers(_credential("vonage", VonageAccount("k", "s"))) == {
        "Authorization": _basic("k", "s")
    }


def test_another_kind_of_secret_is_refused_on_the_secret_field() -> None:
    with pytest.raises(InvalidArgument) as raised:
        twilio.auth_headers(_credential("twilio", PlivoAccount("MA1", "t")))

    assert [violation.field for violation in raised.value.violations] == ["secret"]


def _violations(
    provider: str, secret: SecretMaterial, region: str = "", **extra: str
) -> dict[str, str]:
    config = CredentialConfig(region=region, extra=extra)
    return {
        item.field: item.description for item in get_provider(provider).violations(config, secret)
    }


@pytest.mark.parametrize(
    ("provider", "secret", "region", "extra"),
    [
        ("twilio", TwilioAccount(SID, "token"), "", {}),
        ("twilio", TwilioAccount(SID, "", telephony_accounts.TWILIO_API_KEY_SID, "s"), "ie1", {}),
        ("vonage", VonageAccount("a1b2c3d4", "secret"), "", {}),
        (
            "vonage",
            VonageAccount("a1b2c3d4", "secret", APPLICATION_ID, RSA_PEM, "sig"),
            "eu-west",
            {},
        ),
        ("plivo", PlivoAccount("MAODU4MTK3MDQ3NZE0OT", "token"), "", {}),
        (
            "telnyx",
            TelnyxAccount("KEY", base64.b64encode(bytes(32)).decode()),
            "",
            {"connection_id": "1494404757140276705"},
        ),
        ("exotel", ExotelAccount("k", "t", "acme-voice1"), "in", {}),
        ("exotel", ExotelAccount("k", "t", "acme-voice1"), "sg", {}),
    ],
)
def test_complete_accounts_can_be_stored(
    provider: str, secret: SecretMaterial, region: str, extra: dict[str, str]
) -> None:
    assert _violations(provider, secret, region, **extra) == {}


@pytest.mark.parametrize(
    ("provider", "secret", "region", "extra", "field"),
    [
        ("twilio", TwilioAccount("", "token"), "", {}, "secret.twilio.account_sid"),
        ("twilio", TwilioAccount("AC123/../x", "token"), "", {}, "secret.twilio.account_sid"),
        ("twilio", TwilioAccount(SID), "", {}, "secret.twilio.auth_token"),
        ("twilio", TwilioAccount(SID, "", "SK1", "s"), "", {}, "secret.twilio.api_key_sid"),
        (
            "twilio",
            TwilioAccount(SID, "", telephony_accounts.TWILIO_API_KEY_SID),
            "",
            {},
            "secret.twilio.api_key_secret",
        ),
        ("twilio", TwilioAccount(SID, "token"), "ie", {}, "config.region"),
        ("vonage", VonageAccount("a1b2c3d4"), "", {}, "secret.vonage.api_secret"),
        (
            "vonage",
            VonageAccount("a1b2c3d4", "s", APPLICATION_ID),
            "",
            {},
            "secret.vonage.private_key",
        ),
        (
            "vonage",
            VonageAccount("a1b2c3d4", "s", "", RSA_PEM),
            "",
            {},
            "secret.vonage.application_id",
        ),
        (
            "vonage",
            VonageAccount("a1b2c3d4", "s", APPLICATION_ID, EC_PEM),
            "",
            {},
            "secret.vonage.private_key",
        ),
        ("vonage", VonageAccount("a1b2c3d4", "s"), "us-east-1", {}, "config.region"),
        ("plivo", PlivoAccount("MA1/../..", "t"), "", {}, "secret.plivo.auth_id"),
        ("plivo", PlivoAccount("MA1", ""), "", {}, "secret.plivo.auth_token"),
        ("telnyx", TelnyxAccount(""), "", {}, "secret.telnyx.api_key"),
        ("telnyx", TelnyxAccount("KEY", "bm90IGEga2V5"), "", {}, "secret.telnyx.public_key"),
        (
            "telnyx",
            TelnyxAccount("KEY"),
            "",
            {"connection_id": "1/../2"},
            "config.extra.connection_id",
        ),
        ("exotel", ExotelAccount("k", "", "acme"), "", {}, "secret.exotel.api_token"),
        ("exotel", ExotelAccount("k", "t", "acme/Calls"), "", {}, "secret.exotel.account_sid"),
        ("exotel", ExotelAccount("k", "t", "acme"), "us", {}, "config.region"),
        ("plivo", TwilioAccount(SID, "token"), "", {}, "secret"),
        ("plivo", PlivoAccount("MA1", "t"), "us-east-1", {}, "config.region"),
        ("telnyx", TelnyxAccount("KEY"), "eu-west", {}, "config.region"),
    ],
)
def test_incomplete_or_misshapen_accounts_are_refused_on_the_field(
    provider: str, secret: SecretMaterial, region: str, extra: dict[str, str], field: str
) -> None:
    assert field in _violations(provider, secret, region, **extra)


def test_telephony_capabilities_are_declared_per_provider() -> None:
    assert telephony_capabilities_for("twilio") == ("webhook", "call")
    assert telephony_capabilities_for("exotel") == ("call",)
    assert telephony_capabilities_for("openai") == ()


def test_vonage_checks_the_key_on_the_account_host_whatever_the_voice_region() -> None:
    probe = vonage_verification.verification_request(
        _credential("vonage", VonageAccount("k", "s"), "apac-sng")
    )

    assert probe.url == "https://rest.nexmo.com/account/get-balance"


@pytest.mark.parametrize(
    ("status", "outcome"), [("active", "valid"), ("suspended", "valid"), ("closed", "invalid")]
)
async def test_twilio_account_status_decides_the_verdict(
    fake_server: FakeServer, http_client: ProviderClient, status: str, outcome: str
) -> None:
    body = {**telephony_accounts.TWILIO_ACCOUNT, "status": status}
    fake_server.route("GET", f"/2010-04-01/Accounts/{SID}.json", _answer(body))
    credential = ProviderCredential(
        id="c1",
        provider="twilio",
        config=CredentialConfig(base_url=fake_server.url),
        secret=TwilioAccount(SID, "token"),
    )

    result = await twilio_verification.VERIFIER.verify(credential, http_client)

    assert result.outcome == outcome
    if status != "active":
        assert status in result.message


async def test_twilio_api_key_is_checked_as_the_key_not_the_account(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    endpoint = telephony_accounts.twilio_account_endpoint(telephony_accounts.TWILIO_API_KEY_SID)
    endpoint.install(fake_server, {"key-secret"})
    credential = ProviderCredential(
        id="c1",
        provider="twilio",
        config=CredentialConfig(base_url=fake_server.url),
        secret=TwilioAccount(SID, "", telephony_accounts.TWILIO_API_KEY_SID, "key-secret"),
    )

    result = await twilio_verification.VERIFIER.verify(credential, http_client)

    assert result.outcome == "valid", result.message


def _answer(body: object) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return json_response(200, body)

    return handle


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [(403, "10010", "valid"), (401, "10009", "invalid"), (403, "10009", "invalid")],
)
async def test_telnyx_key_authenticated_but_not_permitted_the_balance_is_genuine(
    fake_server: FakeServer, http_client: ProviderClient, status: int, code: str, outcome: str
) -> None:
    body = {"errors": [{"code": code, "title": "Authorization failed", "detail": "No access."}]}
    fake_server.answer_with_status(status, body)
    credential = ProviderCredential(
        id="c1",
        provider="telnyx",
        config=CredentialConfig(base_url=fake_server.url),
        secret=TelnyxAccount("KEY_0123456789"),
    )

    result = await telnyx_verification.VERIFIER.verify(credential, http_client)

    assert result.outcome == outcome, result.message


@pytest.mark.parametrize(
    ("token_accepted", "outcome"), [(True, "valid"), (False, "invalid")], ids=["good", "wrong"]
)
async def test_twilio_auth_token_beside_an_api_key_is_checked_too(
    fake_server: FakeServer, http_client: ProviderClient, token_accepted: bool, outcome: str
) -> None:
    key_sid = telephony_accounts.TWILIO_API_KEY_SID
    accepted = {f"{key_sid}:key-secret"} | ({f"{SID}:token"} if token_accepted else set())
    telephony_accounts.TWILIO_ANY_USER.install(fake_server, accepted)
    credential = ProviderCredential(
        id="c1",
        provider="twilio",
        config=CredentialConfig(base_url=fake_server.url),
        secret=TwilioAccount(SID, "token", key_sid, "key-secret"),
    )

    result = await twilio_verification.VERIFIER.verify(credential, http_client)

    assert result.outcome == outcome, result.message
    assert len(fake_server.requests) == 2
    if outcome == "invalid":
        assert result.message.startswith("the API key is valid, but the auth token is not")
        assert "token" not in result.message.removeprefix(
            "the API key is valid, but the auth token"
        )
