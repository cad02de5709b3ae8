"""Our account reads next to the providers' own clients: the same request, and fakes whose
answers those clients read as the real provider's.

Each SDK is pointed at the same fake our verifier calls. The request it sends (method, path,
Authorization) must equal ours, and it must parse the fake's success and refusal the way it
parses the provider's. Twilio's client also names the regional hosts it would call, which
must be the ones a `config.region` sends the key to.
"""

from __future__ import annotations

import asyncio
from typing import Any

import plivo  # type: ignore[import-untyped]
import plivo.rest.client  # type: ignore[import-untyped]
import pytest
import telnyx
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response  # type: ignore[import-untyped]
from twilio.rest import Client as TwilioClient  # type: ignore[import-untyped]

from integration_api.credentials.model import (
    CredentialConfig,
    PlivoAccount,
    ProviderCredential,
    SecretMaterial,
    TelnyxAccount,
    TwilioAccount,
)
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.registry import get_provider
from integration_api.providers.twilio import account as twilio_account
from integration_api.providers.twilio.regions import EDGES as TWILIO_EDGES
from tests.fakes import telephony_accounts
from tests.fakes.server import FakeServer, RecordedRequest

SID = telephony_accounts.TWILIO_ACCOUNT_SID
TOKEN = "token-0123456789abcdef"


def _credential(provider: str, server: FakeServer, secret: SecretMaterial) -> ProviderCredential:
    config = CredentialConfig(base_url=server.url)
    return ProviderCredential(id="c1", provider=provider, config=config, secret=secret)


def _same_request(ours: RecordedRequest, theirs: RecordedRequest) -> None:
    assert (ours.method, ours.path, ours.query) == (theirs.method, theirs.path, theirs.query)
    assert ours.headers["authorization"] == theirs.headers["authorization"]


class _TwilioToFake(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's own HTTP client, sending to the fake whatever host the SDK chose."""

    def __init__(self, fake_url: str) -> None:
        super().__init__()
        self.fake_url = fake_url
        self.urls: list[str] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        self.urls.append(url)
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        return super().request(method, self.fake_url + path, *args, **kwargs)


@pytest.mark.parametrize("use_api_key", [False, True], ids=["auth_token", "api_key"])
async def test_twilio_account_fetch_is_the_sdks_request(
    fake_server: FakeServer, http_client: ProviderClient, use_api_key: bool
) -> None:
    user = telephony_accounts.TWILIO_API_KEY_SID if use_api_key else SID
    telephony_accounts.twilio_account_endpoint(user).install(fake_server, {TOKEN})
    secret = TwilioAccount(SID, "", user, TOKEN) if use_api_key else TwilioAccount(SID, TOKEN)
    sdk_http = _TwilioToFake(fake_server.url)
    sdk = TwilioClient(user, TOKEN, account_sid=SID, http_client=sdk_http)

    fetched = await asyncio.to_thread(sdk.api.v2010.accounts(SID).fetch)
    result = await get_provider("twilio").verifier.verify(
        _credential("twilio", fake_server, secret), http_client
    )

    assert fetched.sid == SID and fetched.status == "active"
    assert result.outcome == "valid", result.message
    theirs, ours = fake_server.requests
    _same_request(ours, theirs)
    assert sdk_http.urls == [f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json"]


async def test_twilio_refusal_reads_as_error_20003_in_the_sdk(fake_server: FakeServer) -> None:
    telephony_accounts.TWILIO.install(fake_server, {TOKEN})
    sdk = TwilioClient(SID, "wrong-token", http_client=_TwilioToFake(fake_server.url))

    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(sdk.api.v2010.accounts(SID).fetch)

    assert (raised.value.status, raised.value.code) == (401, 20003)


@pytest.mark.parametrize("region", sorted(TWILIO_EDGES))
async def test_twilio_regional_host_is_the_one_the_sdk_calls(
    fake_server: FakeServer, region: str
) -> None:
    telephony_accounts.TWILIO.install(fake_server, {TOKEN})
    sdk_http = _TwilioToFake(fake_server.url)
    sdk = TwilioClient(SID, TOKEN, region=region, edge=TWILIO_EDGES[region], http_client=sdk_http)
    ours = ProviderCredential(
        id="c1",
        provider="twilio",
        config=CredentialConfig(region=region),
        secret=TwilioAccount(SID, TOKEN),
    )

    await asyncio.to_thread(sdk.api.v2010.accounts(SID).fetch)

    assert sdk_http.urls == [twilio_account.account_url(ours) + ".json"]


async def test_plivo_account_read_is_the_sdks_request(
    fake_server: FakeServer, http_client: ProviderClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    telephony_accounts.PLIVO.install(fake_server, {TOKEN})
    monkeypatch.setattr(plivo.rest.client, "PLIVO_API_BASE_URI", fake_server.url + "/v1/Account")
    sdk = plivo.RestClient(telephony_accounts.PLIVO_AUTH_ID, TOKEN)

    account = await asyncio.to_thread(sdk.account.get)
    result = await get_provider("plivo").verifier.verify(
        _credential("plivo", fake_server, PlivoAccount(telephony_accounts.PLIVO_AUTH_ID, TOKEN)),
        http_client,
    )

    assert account.auth_id == telephony_accounts.PLIVO_AUTH_ID
    assert result.outcome == "valid", result.message
    theirs, ours = fake_server.requests
    _same_request(ours, theirs)


async def test_plivo_refusal_reads_as_an_authentication_error_in_the_sdk(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    telephony_accounts.PLIVO.install(fake_server, {TOKEN})
    monkeypatch.setattr(plivo.rest.client, "PLIVO_API_BASE_URI", fake_server.url + "/v1/Account")
    sdk = plivo.RestClient(telephony_accounts.PLIVO_AUTH_ID, "wrong-token")

    with pytest.raises(plivo.exceptions.AuthenticationError):
        await asyncio.to_thread(sdk.account.get)


async def test_telnyx_balance_read_is_the_sdks_request(
    fake_server: FakeServer, http_client: ProviderClient
) -> None:
    telephony_accounts.TELNYX.install(fake_server, {TOKEN})
    async with telnyx.AsyncTelnyx(api_key=TOKEN, base_url=fake_server.url + "/v2") as sdk:
        balance = await sdk.balance.retrieve()
        with pytest.raises(telnyx.AuthenticationError):
            await sdk.with_options(api_key="wrong-key", max_retries=0).balance.retrieve()
    result = await get_provider("telnyx").verifier.verify(
        _credential("telnyx", fake_server, TelnyxAccount(TOKEN)), http_client
    )

    assert balance.data is not None and balance.data.currency == "USD"
    assert result.outcome == "valid", result.message
    theirs, _refused, ours = fake_server.requests
    _same_request(ours, theirs)
