"""One running service sharing Redis, and a stored credential per telephony provider with the
secrets its webhooks are signed with."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from integration_api_proto.integration.v1 import (
    CreateCredentialRequest,
    CredentialSecret,
    ExotelSecret,
    PlivoSecret,
    TelnyxSecret,
    TwilioSecret,
    VonageSecret,
)
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    TelephonyServiceStub,
)

from integration_api.config import RedisSettings
from tests.fakes import telephony_accounts
from tests.support.service import RunningService, running_service
from tests.telephony.signing import TelnyxKeys

TWILIO_TOKEN = "twilio-auth-token-" + "5" * 16
PLIVO_TOKEN = "plivo-auth-token-" + "6" * 16
VONAGE_SIGNATURE_SECRET = "vonage-signature-secret-" + "7" * 16


@dataclass(frozen=True)
class PhoneAccounts:
    """Credential ids per provider, and what their webhooks are signed with."""

    ids: dict[str, str]
    telnyx_keys: TelnyxKeys


def secrets_by_provider(telnyx_keys: TelnyxKeys) -> dict[str, CredentialSecret]:
    return {
        "twilio": CredentialSecret(
            twilio=TwilioSecret(
                account_sid=telephony_accounts.TWILIO_ACCOUNT_SID, auth_token=TWILIO_TOKEN
            )
        ),
        "vonage": CredentialSecret(
            vonage=VonageSecret(
                api_key=telephony_accounts.VONAGE_API_KEY,
                api_secret="vonage-api-secret-0001",
                signature_secret=VONAGE_SIGNATURE_SECRET,
            )
        ),
        "plivo": CredentialSecret(
            plivo=PlivoSecret(auth_id=telephony_accounts.PLIVO_AUTH_ID, auth_token=PLIVO_TOKEN)
        ),
        "telnyx": CredentialSecret(
            telnyx=TelnyxSecret(api_key="KEY-telnyx-0001", public_key=telnyx_keys.public_base64)
        ),
        "exotel": CredentialSecret(
            exotel=ExotelSecret(
                api_key=telephony_accounts.EXOTEL_API_KEY,
                api_token="exotel-api-token-0001",
                account_sid=telephony_accounts.EXOTEL_ACCOUNT_SID,
            )
        ),
    }


async def store(
    service: RunningService, provider: str, secret: CredentialSecret, **tenant: str
) -> str:
    reply = await CredentialServiceStub(service.channel).create_credential(
        CreateCredentialRequest(
            provider=provider,
            name=f"{provider}-{secrets.token_hex(4)}",
            secret=secret,
            skip_verification=True,
        ),
        metadata=service.auth(**tenant),
    )
    assert reply.credential is not None
    return reply.credential.id


@pytest.fixture(scope="package")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    redis = RedisSettings(host="127.0.0.1", key_prefix=f"itest:{secrets.token_hex(4)}:")
    async with running_service(package_database_dsn, redis=redis) as running:
        yield running


@pytest.fixture(scope="package")
async def accounts(service: RunningService) -> PhoneAccounts:
    keys = TelnyxKeys.generate()
    ids = {
        provider: await store(service, provider, secret)
        for provider, secret in secrets_by_provider(keys).items()
    }
    return PhoneAccounts(ids, keys)


@pytest.fixture
def telephony(service: RunningService) -> TelephonyServiceStub:
    return TelephonyServiceStub(service.channel)
