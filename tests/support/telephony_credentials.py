"""Telephony credentials for tests: each provider's secret message around one token, and the
fake account read that accepts it.

`token` is the secret part a test varies (Twilio's auth token, Vonage's API secret, Plivo's auth
token, Telnyx's API key, Exotel's API token); the identifiers stay those the fakes expect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from integration_api_proto.integration.v1 import (
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    ExotelSecret,
    PlivoSecret,
    TelnyxSecret,
    TwilioSecret,
    VonageSecret,
)

from tests.fakes import telephony_accounts
from tests.fakes.provider_apis import KeyCheckedEndpoint


@dataclass(frozen=True)
class TelephonyAccount:
    """One provider's account as the tests store it."""

    provider: str
    endpoint: KeyCheckedEndpoint
    secret: Callable[[str], CredentialSecret]

    def __str__(self) -> str:
        return self.provider

    def create_request(
        self, token: str, base_url: str, name: str = "phone", region: str = ""
    ) -> CreateCredentialRequest:
        return CreateCredentialRequest(
            provider=self.provider,
            name=name,
            secret=self.secret(token),
            config=CredentialConfig(base_url=base_url, region=region),
        )


TELEPHONY_ACCOUNTS: list[TelephonyAccount] = [
    TelephonyAccount(
        "twilio",
        telephony_accounts.TWILIO,
        lambda token: CredentialSecret(
            twilio=TwilioSecret(account_sid=telephony_accounts.TWILIO_ACCOUNT_SID, auth_token=token)
        ),
    ),
    TelephonyAccount(
        "vonage",
        telephony_accounts.VONAGE,
        lambda token: CredentialSecret(
            vonage=VonageSecret(api_key=telephony_accounts.VONAGE_API_KEY, api_secret=token)
        ),
    ),
    TelephonyAccount(
        "plivo",
        telephony_accounts.PLIVO,
        lambda token: CredentialSecret(
            plivo=PlivoSecret(auth_id=telephony_accounts.PLIVO_AUTH_ID, auth_token=token)
        ),
    ),
    TelephonyAccount(
        "telnyx",
        telephony_accounts.TELNYX,
        lambda token: CredentialSecret(telnyx=TelnyxSecret(api_key=token)),
    ),
    TelephonyAccount(
        "exotel",
        telephony_accounts.EXOTEL,
        lambda token: CredentialSecret(
            exotel=ExotelSecret(
                api_key=telephony_accounts.EXOTEL_API_KEY,
                api_token=token,
                account_sid=telephony_accounts.EXOTEL_ACCOUNT_SID,
            )
        ),
    ),
]
