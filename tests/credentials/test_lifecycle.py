"""CredentialService end to end: a real server, a real PostgreSQL, a fake OpenAI on loopback."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AzureSecret,
    CheckOutcome,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    CredentialStatus,
    DeleteCredentialRequest,
    DisableCredentialRequest,
    EnableCredentialRequest,
    GetCredentialRequest,
    ListCredentialsRequest,
    RotateCredentialRequest,
    UpdateCredentialRequest,
    VerifyCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.errors import FailedPrecondition
from integration_api.principal import Tenant
from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import error_info, field_violations, openai_request
from tests.fakes.server import FakeServer
from tests.support.service import RunningService

Fake = tuple[FakeServer, set[str]]


async def test_create_verifies_then_stores_and_answers_without_the_secret(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, accepted = openai_fake
    key = new_openai_key()
    accepted.add(key)
    reply = await credentials.create_credential(
        openai_request(key, server.url), metadata=service.auth()
    )
    credential = reply.credential
    assert credential.status == CredentialStatus.ACTIVE
    assert credential.secret_hint == "…" + key[-4:]
    assert credential.fingerprint.startswith("fp_")
    assert credential.last_check.outcome == CheckOutcome.VALID
    assert credential.version == 1
    assert credential.secret_kind == "api_key"
    assert key.encode() not in bytes(reply)
    sent = server.requests_to("/v1/models")
    assert len(sent) == 1 and sent[0].headers["authorization"] == f"Bearer {key}"
    fetched = await credentials.get_credential(
        GetCredentialRequest(id=credential.id), metadata=service.auth()
    )
    assert fetched.credential.id == credential.id
    assert key.encode() not in bytes(fetched)


async def test_key_the_provider_rejects_is_not_stored(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _accepted = openai_fake
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.create_credential(
            openai_request(new_openai_key(), server.url), metadata=service.auth()
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(raised.value)
    assert info.reason == "CREDENTIAL_REJECTED" and info.metadata["provider"] == "openai"
    listed = await credentials.list_credentials(ListCredentialsRequest(), metadata=service.auth())
    assert listed.credentials == []


async def test_unreachable_provider_refuses_create_with_unavailable(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, accepted = openai_fake
    key = new_openai_key()
    accepted.add(key)
    server.answer_with_status(500)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.create_credential(
            openai_request(key, server.url), metadata=service.auth()
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    listed = await credentials.list_credentials(ListCredentialsRequest(), metadata=service.auth())
    assert listed.credentials == []


async def test_skip_verification_stores_unverified_without_calling_the_provider(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _accepted = openai_fake
    request = openai_request(new_openai_key(), server.url, skip_verification=True)
    reply = await credentials.create_credential(request, metadata=service.auth())
    assert reply.credential.status == CredentialStatus.UNVERIFIED
    assert server.requests == []


def _keyed(
    provider: str, name: str = "n", base_url: str = "", region: str = ""
) -> CreateCredentialRequest:
    """A create request with a plausible API key, to be refused for another reason."""
    return CreateCredentialRequest(
        provider=provider,
        name=name,
        secret=CredentialSecret(api_key=ApiKeySecret(key="sk-1234567890abcd")),
        config=CredentialConfig(base_url=base_url, region=region),
    )


@pytest.mark.parametrize(
    ("request_message", "expected_field"),
    [
        (CreateCredentialRequest(provider="nope", name="n"), "provider"),
        (CreateCredentialRequest(provider="openai", name="n"), "secret"),
        (_keyed("openai", name=""), "name"),
        (_keyed("openai", base_url="ftp://example.com"), "config.base_url"),
        (
            # Bedrock takes AWS keys or a Bedrock API key, never an Azure resource key.
            CreateCredentialRequest(
                provider="bedrock",
                name="n",
                secret=CredentialSecret(azure=AzureSecret(api_key="1234567890abcdef")),
                config=CredentialConfig(region="us-east-1"),
            ),
            "secret",
        ),
        (_keyed("azure-openai"), "config.base_url"),
    ],
)
async def test_bad_input_is_invalid_argument_naming_the_field_and_stores_nothing(
    service: RunningService,
    credentials: CredentialServiceStub,
    request_message: CreateCredentialRequest,
    expected_field: str,
) -> None:
    request_message.skip_verification = True
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.create_credential(request_message, metadata=service.auth())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert expected_field in field_violations(raised.value)
    listed = await credentials.list_credentials(ListCredentialsRequest(), metadata=service.auth())
    assert listed.credentials == []


async def test_duplicate_name_in_one_tenant_is_already_exists(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _ = openai_fake
    first = openai_request(new_openai_key(), server.url, name="dup", skip_verification=True)
    await credentials.create_credential(first, metadata=service.auth())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.create_credential(first, metadata=service.auth())
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    other_tenant = service.auth(organization_id="org-other")
    await credentials.create_credential(first, metadata=other_tenant)


async def test_another_tenants_credential_is_indistinguishable_from_a_missing_one(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _ = openai_fake
    request = openai_request(new_openai_key(), server.url, skip_verification=True)
    created = (await credentials.create_credential(request, metadata=service.auth())).credential
    stranger = service.auth(organization_id="org-stranger")
    missing_id = "00000000-0000-4000-8000-000000000000"
    outcomes = []
    for credential_id in (created.id, missing_id):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await credentials.get_credential(
                GetCredentialRequest(id=credential_id), metadata=stranger
            )
        outcomes.append((raised.value.code(), error_info(raised.value).reason))
    assert outcomes[0] == outcomes[1] == (grpc.StatusCode.NOT_FOUND, outcomes[0][1])
    for call in (
        credentials.delete_credential(DeleteCredentialRequest(id=created.id), metadata=stranger),
        credentials.disable_credential(DisableCredentialRequest(id=created.id), metadata=stranger),
        credentials.verify_credential(VerifyCredentialRequest(id=created.id), metadata=stranger),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    still = await credentials.get_credential(
        GetCredentialRequest(id=created.id), metadata=service.auth()
    )
    assert still.credential.status == CredentialStatus.UNVERIFIED


async def test_list_pages_in_stable_order_with_filters(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _ = openai_fake
    created = []
    for index in range(7):
        request = openai_request(
            new_openai_key(), server.url, name=f"k{index}", skip_verification=True
        )
        created.append(
            (await credentials.create_credential(request, metadata=service.auth())).credential.id
        )
    seen: list[str] = []
    token = ""
    while True:
        page = await credentials.list_credentials(
            ListCredentialsRequest(page_size=3, page_token=token), metadata=service.auth()
        )
        seen += [c.id for c in page.credentials]
        token = page.next_page_token
        if not token:
            break
    assert seen == created
    await credentials.disable_credential(
        DisableCredentialRequest(id=created[2]), metadata=service.auth()
    )
    disabled = await credentials.list_credentials(
        ListCredentialsRequest(status=CredentialStatus.DISABLED), metadata=service.auth()
    )
    assert [c.id for c in disabled.credentials] == [created[2]]
    anthropic = await credentials.list_credentials(
        ListCredentialsRequest(provider="anthropic"), metadata=service.auth()
    )
    assert anthropic.credentials == []
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.list_credentials(
            ListCredentialsRequest(page_token="garbage"), metadata=service.auth()
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_update_changes_name_and_config_only_and_guards_versions(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _ = openai_fake
    request = openai_request(new_openai_key(), server.url, skip_verification=True)
    created = (await credentials.create_credential(request, metadata=service.auth())).credential
    updated = await credentials.update_credential(
        UpdateCredentialRequest(id=created.id, name="renamed", expected_version=created.version),
        metadata=service.auth(),
    )
    assert updated.credential.name == "renamed"
    assert updated.credential.config.base_url == created.config.base_url
    assert updated.credential.fingerprint == created.fingerprint
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.update_credential(
            UpdateCredentialRequest(id=created.id, name="again", expected_version=created.version),
            metadata=service.auth(),
        )
    assert raised.value.code() == grpc.StatusCode.ABORTED


async def test_rotate_verifies_the_new_key_first_and_keeps_the_old_one_on_refusal(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, accepted = openai_fake
    old_key, new_key = new_openai_key(), new_openai_key()
    accepted.add(old_key)
    created = (
        await credentials.create_credential(
            openai_request(old_key, server.url), metadata=service.auth()
        )
    ).credential
    rotate = RotateCredentialRequest(
        id=created.id, secret=CredentialSecret(api_key=ApiKeySecret(key=new_key))
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.rotate_credential(rotate, metadata=service.auth())
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    kept = await credentials.get_credential(
        GetCredentialRequest(id=created.id), metadata=service.auth()
    )
    assert kept.credential.secret_hint == created.secret_hint
    accepted.add(new_key)
    rotated = (await credentials.rotate_credential(rotate, metadata=service.auth())).credential
    assert rotated.secret_hint == "…" + new_key[-4:]
    assert rotated.rotated_by == "subject:user-1" and rotated.rotated_at is not None
    assert rotated.fingerprint != created.fingerprint
    accepted.discard(old_key)
    checked = await credentials.verify_credential(
        VerifyCredentialRequest(id=created.id), metadata=service.auth()
    )
    assert checked.check.outcome == CheckOutcome.VALID
    assert server.requests[-1].headers["authorization"] == f"Bearer {new_key}"


async def test_verify_records_invalid_when_the_key_is_revoked(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, accepted = openai_fake
    key = new_openai_key()
    accepted.add(key)
    created = (
        await credentials.create_credential(
            openai_request(key, server.url), metadata=service.auth()
        )
    ).credential
    accepted.clear()
    checked = await credentials.verify_credential(
        VerifyCredentialRequest(id=created.id), metadata=service.auth()
    )
    assert checked.check.outcome == CheckOutcome.INVALID
    assert checked.credential.last_check.outcome == CheckOutcome.INVALID
    assert key not in checked.check.message


async def test_disable_refuses_use_at_once_and_enable_restores_it(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, accepted = openai_fake
    key = new_openai_key()
    accepted.add(key)
    created = (
        await credentials.create_credential(
            openai_request(key, server.url), metadata=service.auth()
        )
    ).credential
    operations = service.app.runtime.credential_ops
    tenant = Tenant("org-test", "project-test")
    resolved = await operations.resolve_for_use(tenant, created.id)  # warms the cache
    assert resolved.provider == "openai"
    await credentials.disable_credential(
        DisableCredentialRequest(id=created.id, reason="leaked"), metadata=service.auth()
    )
    with pytest.raises(FailedPrecondition):
        await operations.resolve_for_use(tenant, created.id)
    enabled = await credentials.enable_credential(
        EnableCredentialRequest(id=created.id), metadata=service.auth()
    )
    assert enabled.credential.status == CredentialStatus.ACTIVE
    assert (await operations.resolve_for_use(tenant, created.id)).id == created.id


async def test_delete_removes_the_credential_for_good(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _ = openai_fake
    request = openai_request(new_openai_key(), server.url, skip_verification=True)
    created = (await credentials.create_credential(request, metadata=service.auth())).credential
    await credentials.delete_credential(
        DeleteCredentialRequest(id=created.id), metadata=service.auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.get_credential(
            GetCredentialRequest(id=created.id), metadata=service.auth()
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    pool = service.app.runtime.database.pool
    assert await pool.fetchval("SELECT count(*) FROM credentials") == 0


async def test_update_with_a_bad_config_is_invalid_argument_and_changes_nothing(
    service: RunningService, credentials: CredentialServiceStub, openai_fake: Fake
) -> None:
    server, _ = openai_fake
    request = openai_request(new_openai_key(), server.url, skip_verification=True)
    created = (await credentials.create_credential(request, metadata=service.auth())).credential
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await credentials.update_credential(
            UpdateCredentialRequest(id=created.id, config=CredentialConfig(base_url="ftp://x")),
            metadata=service.auth(),
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "config.base_url" in field_violations(raised.value)
    kept = await credentials.get_credential(
        GetCredentialRequest(id=created.id), metadata=service.auth()
    )
    assert kept.credential.config.base_url == created.config.base_url
    assert kept.credential.version == created.version
