"""Secret fields are capped in size: an oversized one is refused by name and nothing is stored."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AwsSecret,
    AzureSecret,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    GcpServiceAccountSecret,
    GetCredentialRequest,
    ListCredentialsRequest,
    RotateCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.credentials.helpers import field_violations, openai_request
from tests.support.service import RunningService, running_service

KEY_LIMIT = 4096
Metadata = tuple[tuple[str, str], ...]


def _service_account(padding: int) -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "p",
            "private_key_id": "k" * 40,
            "private_key": "-----BEGIN PRIVATE KEY-----\n" + "A" * padding,
            "client_email": "svc@p.iam.gserviceaccount.com",
        }
    )


def _aws(
    access_key_id: str = "AKIA" + "A" * 16, secret: str = "s" * 40, token: str = ""
) -> AwsSecret:
    return AwsSecret(access_key_id=access_key_id, secret_access_key=secret, session_token=token)


OVERSIZED = {
    "secret.api_key.key": ("openai", CredentialSecret(api_key=ApiKeySecret(key="k" * 4_000_000))),
    "secret.azure.api_key": (
        "azure-openai",
        CredentialSecret(azure=AzureSecret(api_key="k" * (KEY_LIMIT + 1))),
    ),
    "secret.aws.access_key_id": ("bedrock", CredentialSecret(aws=_aws(access_key_id="A" * 129))),
    "secret.aws.secret_access_key": ("bedrock", CredentialSecret(aws=_aws(secret="s" * 1025))),
    "secret.aws.session_token": ("bedrock", CredentialSecret(aws=_aws(token="t" * 8193))),
    "secret.gcp_service_account.json": (
        "vertex-ai",
        CredentialSecret(gcp_service_account=GcpServiceAccountSecret(json=_service_account(17000))),
    ),
}
CONFIG = CredentialConfig(
    base_url="https://example.openai.azure.com", region="us-east-1", default_model="m"
)


@pytest.fixture(scope="module")
async def shared_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


@pytest.fixture
def tenant(shared_service: RunningService) -> Metadata:
    return shared_service.auth(organization_id=f"org-{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize(("field", "provider_and_secret"), OVERSIZED.items(), ids=OVERSIZED.keys())
async def test_an_oversized_secret_field_is_refused_by_name_and_nothing_is_stored(
    shared_service: RunningService,
    tenant: Metadata,
    field: str,
    provider_and_secret: tuple[str, CredentialSecret],
) -> None:
    provider, secret = provider_and_secret
    stub = CredentialServiceStub(shared_service.channel)
    request = CreateCredentialRequest(
        provider=provider, name="big", secret=secret, config=CONFIG, skip_verification=True
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.create_credential(request, metadata=tenant)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(raised.value)
    assert field in (raised.value.details() or "")
    listed = await stub.list_credentials(ListCredentialsRequest(), metadata=tenant)
    assert listed.credentials == []


async def test_a_key_at_the_limit_is_stored_and_a_rotation_past_it_is_refused(
    shared_service: RunningService, tenant: Metadata
) -> None:
    stub = CredentialServiceStub(shared_service.channel)
    at_limit = "sk-" + "k" * (KEY_LIMIT - 3)
    request = openai_request(at_limit, "http://127.0.0.1:9", skip_verification=True)
    created = (await stub.create_credential(request, metadata=tenant)).credential
    rotation = RotateCredentialRequest(
        id=created.id,
        secret=CredentialSecret(api_key=ApiKeySecret(key=at_limit + "k")),
        skip_verification=True,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.rotate_credential(rotation, metadata=tenant)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(raised.value) == {"secret.api_key.key": "must be at most 4096 bytes"}
    unchanged = await stub.get_credential(GetCredentialRequest(id=created.id), metadata=tenant)
    assert unchanged.credential.version == created.version
