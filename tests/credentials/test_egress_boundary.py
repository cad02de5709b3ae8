"""A stored key goes only where the egress policy allows, and only its holder can move it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    RotateCredentialRequest,
    UpdateCredentialRequest,
    VerifyCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import field_violations, openai_request
from tests.fakes import provider_apis
from tests.fakes.server import FakeServer
from tests.providers.test_egress import REFUSED_HOSTS
from tests.support.egress import Canary, canary
from tests.support.service import RunningService, running_service


@pytest.fixture
async def strict_service(empty_database_dsn: str) -> AsyncIterator[RunningService]:
    """The service as production runs it with EGRESS_ALLOW unset: no loopback, no listing."""
    async with running_service(empty_database_dsn, egress_allow=()) as running:
        yield running


@pytest.fixture(scope="module")
async def shared_strict_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    """One strict service for the many refusals that store nothing."""
    async with running_service(package_database_dsn, egress_allow=()) as running:
        yield running


@pytest.fixture
async def listener() -> AsyncIterator[Canary]:
    async with canary() as found:
        yield found


def compatible_request(base_url: str, key: str = "sk-local") -> CreateCredentialRequest:
    return CreateCredentialRequest(
        provider="openai-compatible",
        name="local",
        secret=CredentialSecret(api_key=ApiKeySecret(key=key)),
        config=CredentialConfig(base_url=base_url),
    )


@pytest.mark.parametrize("host", REFUSED_HOSTS)
async def test_a_base_url_at_a_refused_place_is_invalid_and_never_contacted(
    shared_strict_service: RunningService, listener: Canary, host: str
) -> None:
    stub = CredentialServiceStub(shared_strict_service.channel)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.create_credential(
            compatible_request(f"http://{host}:{listener.port}/v1"),
            metadata=shared_strict_service.auth(),
        )

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    why = field_violations(caught.value)["config.base_url"]
    assert why.startswith("is refused by the egress policy: ")
    assert why.endswith("; list it in EGRESS_ALLOW to allow it")
    assert listener.connections == 0


async def test_a_first_party_key_goes_elsewhere_only_when_the_operator_lists_the_host(
    strict_service: RunningService, empty_database_dsn: str
) -> None:
    request = openai_request(new_openai_key(), "https://evil.example", skip_verification=True)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await CredentialServiceStub(strict_service.channel).create_credential(
            request, metadata=strict_service.auth()
        )
    assert field_violations(caught.value)["config.base_url"] == (
        "is refused by the egress policy: not a host of openai; list it in EGRESS_ALLOW to allow it"
    )

    async with running_service(empty_database_dsn, egress_allow=("evil.example",)) as listed:
        stub = CredentialServiceStub(listed.channel)
        created = await stub.create_credential(request, metadata=listed.auth())
    assert created.credential.config.base_url == "https://evil.example/v1"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (CredentialConfig(base_url="http://127.0.0.1:9/v1"), "config.base_url"),
        (CredentialConfig(), "config.base_url"),
    ],
)
async def test_a_config_update_cannot_point_a_stored_key_elsewhere(
    service: RunningService,
    credentials: CredentialServiceStub,
    openai_fake: tuple[FakeServer, set[str]],
    change: CredentialConfig,
    field: str,
) -> None:
    server, accepted = openai_fake
    key = new_openai_key()
    accepted.add(key)
    created = await credentials.create_credential(
        openai_request(key, server.url), metadata=service.auth()
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await credentials.update_credential(
            UpdateCredentialRequest(id=created.credential.id, config=change),
            metadata=service.auth(),
        )

    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "rotate the credential with the new config" in field_violations(caught.value)[field]


async def test_a_config_update_that_keeps_the_destination_is_accepted(
    service: RunningService, credentials: CredentialServiceStub
) -> None:
    request = openai_request(new_openai_key(), "http://127.0.0.1:9", skip_verification=True)
    created = (await credentials.create_credential(request, metadata=service.auth())).credential
    config = CredentialConfig(base_url=created.config.base_url, default_model="gpt-4.1")

    updated = await credentials.update_credential(
        UpdateCredentialRequest(id=created.id, config=config), metadata=service.auth()
    )

    assert updated.credential.config.default_model == "gpt-4.1"


async def test_a_rotation_carrying_a_new_config_moves_the_key_verified_and_audited(
    service: RunningService, credentials: CredentialServiceStub
) -> None:
    old_key, new_key = new_openai_key(), new_openai_key()
    async with FakeServer() as old_place, FakeServer() as new_place:
        provider_apis.OPENAI.install(old_place, {old_key})
        provider_apis.OPENAI.install(new_place, {new_key})
        created = await credentials.create_credential(
            openai_request(old_key, old_place.url), metadata=service.auth()
        )
        new_config = CredentialConfig(base_url=new_place.url + "/v1", default_model="gpt-4o")

        rotated = await credentials.rotate_credential(
            RotateCredentialRequest(
                id=created.credential.id,
                secret=CredentialSecret(api_key=ApiKeySecret(key=new_key)),
                config=new_config,
            ),
            metadata=service.auth(),
        )
        await credentials.verify_credential(
            VerifyCredentialRequest(id=created.credential.id), metadata=service.auth()
        )

        assert len(old_place.requests) == 1
        assert len(new_place.requests) == 2
    assert rotated.credential.config.base_url == new_place.url + "/v1"
    details = await service.app.runtime.database.pool.fetchval(
        "SELECT details::text FROM audit_events WHERE action = 'credential.rotate'"
    )
    assert json.loads(details) | {
        "base_url_from": old_place.url + "/v1",
        "base_url_to": new_place.url + "/v1",
    } == json.loads(details)
    assert new_key not in details and old_key not in details


async def test_a_rotation_to_a_refused_place_is_refused_before_any_call(
    strict_service: RunningService, listener: Canary
) -> None:
    stub = CredentialServiceStub(strict_service.channel)
    request = openai_request(new_openai_key(), "https://api.openai.com", skip_verification=True)
    created = await stub.create_credential(request, metadata=strict_service.auth())

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.rotate_credential(
            RotateCredentialRequest(
                id=created.credential.id,
                secret=CredentialSecret(api_key=ApiKeySecret(key=new_openai_key())),
                config=CredentialConfig(base_url=listener.url("169.254.169.254")),
            ),
            metadata=strict_service.auth(),
        )

    assert "link-local" in field_violations(caught.value)["config.base_url"]
    assert listener.connections == 0


async def test_error_text_from_a_host_that_is_not_the_providers_own_is_not_returned(
    service: RunningService, credentials: CredentialServiceStub
) -> None:
    banner = "internal admin console v3.2 at db-primary.corp"
    async with FakeServer() as upstream:
        upstream.answer_with_status(401, {"error": {"message": banner, "type": banner}})

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await credentials.create_credential(
                compatible_request(upstream.url + "/v1"), metadata=service.auth()
            )

    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert banner not in str(caught.value.details())
    assert banner not in str(caught.value.trailing_metadata())
    assert "(HTTP 401)" in str(caught.value.details())
