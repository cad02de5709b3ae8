"""Telephony credentials in OperationsService and the Opstage report: inventory with their
capabilities, health checks, gated rotation, and the regional host an account is served from."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1 import (
    ConfirmRotationRequest,
    EffectiveStatus,
    GetInventoryRequest,
    RequestRotationRequest,
    RotationState,
    RunHealthCheckRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.fakes.opstage import FakeOpstage
from tests.fakes.server import FakeServer
from tests.ops.support import Caller
from tests.ops.test_opstage_agent import agent_service, until
from tests.support.telephony_credentials import TELEPHONY_ACCOUNTS

EXPECTED_CAPABILITIES = {
    "twilio": ["verify", "webhook", "call"],
    "vonage": ["verify", "webhook", "call"],
    "plivo": ["verify", "webhook", "call"],
    "telnyx": ["verify", "webhook", "call"],
    # Exotel documents no webhook signature: nothing for ValidateWebhook to check.
    "exotel": ["verify", "call"],
}


def _token() -> str:
    return "tok" + secrets.token_hex(16)


@pytest.fixture(scope="package")
async def telephony_fake() -> AsyncIterator[tuple[FakeServer, set[str]]]:
    """Every telephony provider's account read on one server (their paths differ)."""
    accepted: set[str] = set()
    async with FakeServer() as server:
        for account in TELEPHONY_ACCOUNTS:
            account.endpoint.install(server, accepted)
        yield server, accepted


async def _store_every_provider(
    caller: Caller, fake: tuple[FakeServer, set[str]], organization: str
) -> dict[str, tuple[str, str]]:
    """provider -> (credential id, token) for one verified account of each provider."""
    server, accepted = fake
    stored: dict[str, tuple[str, str]] = {}
    for account in TELEPHONY_ACCOUNTS:
        token = _token()
        accepted.add(token)
        reply = await caller.credentials.create_credential(
            account.create_request(token, server.url, name="c-" + secrets.token_hex(4)),
            metadata=caller.tenant(organization),
        )
        assert reply.credential is not None
        stored[account.provider] = (reply.credential.id, token)
    return stored


async def test_inventory_shows_telephony_accounts_with_their_capabilities(
    caller: Caller, telephony_fake: tuple[FakeServer, set[str]]
) -> None:
    organization = "org-" + secrets.token_hex(3)
    stored = await _store_every_provider(caller, telephony_fake, organization)

    inventory = await caller.operations.get_inventory(
        GetInventoryRequest(page_size=500), metadata=caller.tenant(organization)
    )

    capabilities = {item.provider: list(item.capabilities) for item in inventory.items}
    assert capabilities == EXPECTED_CAPABILITIES
    healthy = {item.provider for item in inventory.credentials}
    assert healthy == set(EXPECTED_CAPABILITIES)
    assert all(item.effective_status == EffectiveStatus.HEALTHY for item in inventory.credentials)
    assert not any(token in inventory.to_json() for _id, token in stored.values())


async def test_health_check_marks_revoked_telephony_accounts_unhealthy(
    caller: Caller, telephony_fake: tuple[FakeServer, set[str]]
) -> None:
    organization = "org-" + secrets.token_hex(3)
    stored = await _store_every_provider(caller, telephony_fake, organization)
    _server, accepted = telephony_fake
    accepted.difference_update(token for _id, token in stored.values())

    answer = await caller.operations.run_health_check(
        RunHealthCheckRequest(all=True), metadata=caller.tenant(organization)
    )
    inventory = await caller.operations.get_inventory(
        GetInventoryRequest(page_size=500), metadata=caller.tenant(organization)
    )

    assert {result.credential_id for result in answer.results} == {
        credential_id for credential_id, _ in stored.values()
    }
    assert all(item.effective_status == EffectiveStatus.UNHEALTHY for item in inventory.credentials)


async def test_gated_rotation_swaps_a_telephony_secret_once_an_operator_confirms(
    caller: Caller, telephony_fake: tuple[FakeServer, set[str]]
) -> None:
    organization = "org-" + secrets.token_hex(3)
    stored = await _store_every_provider(caller, telephony_fake, organization)
    _server, accepted = telephony_fake
    twilio = TELEPHONY_ACCOUNTS[0]
    credential_id, _old = stored["twilio"]
    opened = await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential_id, reason="quarterly"),
        metadata=caller.tenant(organization, user="alice"),
    )
    assert opened.rotation is not None
    replacement = _token()
    accepted.add(replacement)

    confirmed = await caller.operations.confirm_rotation(
        ConfirmRotationRequest(rotation_id=opened.rotation.id, secret=twilio.secret(replacement)),
        metadata=caller.operator(user="olga"),
    )

    assert confirmed.rotation is not None and confirmed.credential is not None
    assert confirmed.rotation.state == RotationState.CONFIRMED
    assert confirmed.credential.secret_hint == "…" + replacement[-4:]
    assert replacement not in confirmed.to_json()


async def test_opstage_reports_each_telephony_provider_and_its_regional_host(
    empty_database_dsn: str, telephony_fake: tuple[FakeServer, set[str]]
) -> None:
    server, accepted = telephony_fake
    token = _token()
    accepted.add(token)
    twilio, exotel = TELEPHONY_ACCOUNTS[0], TELEPHONY_ACCOUNTS[4]
    async with FakeServer() as backend:
        opstage = FakeOpstage(backend)
        registration = opstage.issue_registration_token()
        async with agent_service(empty_database_dsn, opstage, registration) as service:
            stub = CredentialServiceStub(service.channel)
            await stub.create_credential(
                twilio.create_request(token, server.url), metadata=service.auth()
            )
            # Stored unverified: no base URL, so Exotel's Mumbai host is the one reported.
            mumbai = exotel.create_request(_token(), "", name="mumbai", region="in")
            mumbai.skip_verification = True
            await stub.create_credential(mumbai, metadata=service.auth())
            await until(lambda: _reported(opstage, "provider-exotel"))
            await until(lambda: _reported(opstage, "provider-twilio"))

    twilio_configs = _configs(opstage.service("provider-twilio"))
    exotel_configs = _configs(opstage.service("provider-exotel"))
    assert twilio_configs["UPSTREAM_URL"] == server.url
    assert exotel_configs["UPSTREAM_URL"] == "https://api.in.exotel.com"
    assert token not in json.dumps(opstage.services)


def _reported(opstage: FakeOpstage, code: str) -> bool:
    return any(service["code"] == code for service in opstage.services.values())


def _configs(service: dict[str, object]) -> dict[str, str]:
    items = service["configs"]
    assert isinstance(items, list)
    return {item["key"]: item["valuePreview"] for item in items}
