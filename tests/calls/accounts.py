"""One fake account per telephony provider, each with its calls API and a stored credential."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from integration_api_proto.integration.v1 import (
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    VonageSecret,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.fakes import telephony_accounts
from tests.fakes.call_book import CallBook
from tests.fakes.calls_exotel import ExotelCallsFake
from tests.fakes.calls_plivo import PlivoCallsFake
from tests.fakes.calls_telnyx import CONNECTION_ID, TelnyxCallsFake
from tests.fakes.calls_twilio import TwilioCallsFake
from tests.fakes.calls_vonage import VonageCallsFake
from tests.fakes.server import FakeServer
from tests.support.service import RunningService
from tests.support.telephony_credentials import TELEPHONY_ACCOUNTS

PROVIDERS = ("twilio", "vonage", "plivo", "telnyx", "exotel")
VONAGE_APPLICATION_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"


class CallsFake(Protocol):
    provider: str
    book: CallBook

    def install(self, server: FakeServer) -> None: ...


@dataclass
class CallAccount:
    """A provider under test: its fake, the credential stored for it, and its secrets."""

    provider: str
    server: FakeServer
    fake: CallsFake
    credential_id: str
    # Every secret value of the stored credential: none may ever leave the service.
    secrets: tuple[str, ...]
    # The tokens the fake account accepts (the stored one, and any a test adds).
    accepted: set[str]

    def reset(self) -> None:
        self.server.requests.clear()
        self.server.behave_normally()
        self.server.echo_credentials = False
        self.fake.book.calls.clear()


def vonage_key_pair() -> tuple[str, str]:
    """A fresh RSA application key: the private PEM stored, the public PEM the fake checks."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def create_request(
    provider: str, token: str, base_url: str, private_pem: str
) -> CreateCredentialRequest:
    account = next(item for item in TELEPHONY_ACCOUNTS if item.provider == provider)
    # Names are unique in a project: tests store several credentials per provider.
    name = f"{provider} calls {secrets.token_hex(3)}"
    request = account.create_request(token, base_url, name=name)
    if provider == "vonage":
        request.secret = CredentialSecret(
            vonage=VonageSecret(
                api_key=telephony_accounts.VONAGE_API_KEY,
                api_secret=token,
                application_id=VONAGE_APPLICATION_ID,
                private_key=private_pem,
            )
        )
    if provider == "telnyx":
        request.config = CredentialConfig(base_url=base_url, extra={"connection_id": CONNECTION_ID})
    if provider == "exotel":
        request.config = CredentialConfig(base_url=base_url, region="in")
    return request


def _fake_for(provider: str, accepted: set[str], public_pem: str) -> CallsFake:
    if provider == "twilio":
        return TwilioCallsFake(accepted)
    if provider == "vonage":
        return VonageCallsFake(VONAGE_APPLICATION_ID, public_pem)
    if provider == "plivo":
        return PlivoCallsFake(accepted)
    if provider == "telnyx":
        return TelnyxCallsFake(accepted)
    return ExotelCallsFake(accepted)


async def store(service: RunningService, request: CreateCredentialRequest, **tenant: str) -> str:
    stub = CredentialServiceStub(service.channel)
    reply = await stub.create_credential(request, metadata=service.auth(**tenant))
    return reply.credential.id


@asynccontextmanager
async def call_accounts(
    service: RunningService, address: Callable[[str, str], str] = lambda provider, url: url
) -> AsyncIterator[dict[str, CallAccount]]:
    """A fake account per provider, each credential's base URL `address(provider, url)`."""
    private_pem, public_pem = vonage_key_pair()
    found: dict[str, CallAccount] = {}
    async with AsyncExitStack() as stack:
        for provider in PROVIDERS:
            server = await stack.enter_async_context(FakeServer())
            token = "tok" + secrets.token_hex(16)
            accepted = {token}
            account = next(item for item in TELEPHONY_ACCOUNTS if item.provider == provider)
            account.endpoint.install(server, accepted)
            fake = _fake_for(provider, accepted, public_pem)
            fake.install(server)
            request = create_request(provider, token, address(provider, server.url), private_pem)
            credential_id = await store(service, request)
            stored = (token, private_pem) if provider == "vonage" else (token,)
            found[provider] = CallAccount(provider, server, fake, credential_id, stored, accepted)
        yield found
