"""OperationsService through a real gRPC client: who sees what, checks, gated rotation, disable."""

from __future__ import annotations

import secrets

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ConfirmRotationRequest,
    CredentialSecret,
    CredentialStatus,
    DisableCredentialsRequest,
    EffectiveStatus,
    GetCredentialRequest,
    GetInventoryRequest,
    RequestRotationRequest,
    RotationState,
    RunHealthCheckRequest,
)

from tests.credentials.helpers import error_info
from tests.ops.support import Caller, new_key


def new_org() -> str:
    return "org-" + secrets.token_hex(3)


def api_key(key: str) -> CredentialSecret:
    return CredentialSecret(api_key=ApiKeySecret(key=key))


async def test_operator_sees_every_tenant_and_a_tenant_only_its_own(caller: Caller) -> None:
    first, second = new_org(), new_org()
    mine, key = await caller.stored(first)
    theirs, _ = await caller.stored(second)
    as_tenant = await caller.operations.get_inventory(
        GetInventoryRequest(page_size=500), metadata=caller.tenant(first)
    )
    assert [item.credential_id for item in as_tenant.credentials] == [mine.id]
    as_operator = await caller.operations.get_inventory(
        GetInventoryRequest(page_size=500), metadata=caller.operator()
    )
    seen = {item.credential_id: item for item in as_operator.credentials}
    assert {mine.id, theirs.id} <= seen.keys()
    item = seen[theirs.id]
    assert (item.organization_id, item.project_id) == (second, "p1")
    assert item.effective_status == EffectiveStatus.HEALTHY
    assert item.default_model == "gpt-4o-mini"
    assert item.base_url == caller.provider.url + "/v1"
    assert item.last_check is not None and item.last_check.latency_ms >= 0
    assert key not in as_operator.to_json()
    aggregate = next(agg for agg in as_tenant.items if agg.provider == "openai")
    assert (aggregate.credentials, aggregate.active) == (1, 1)


async def test_a_tenant_cannot_name_another_tenant_in_the_inventory(caller: Caller) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.get_inventory(
            GetInventoryRequest(organization_id="someone-else", project_id="p1"),
            metadata=caller.tenant(new_org()),
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_inventory_filters_by_tenant_and_status_and_pages(caller: Caller) -> None:
    organization = new_org()
    created = [await caller.stored(organization) for _ in range(3)]
    ids = [credential.id for credential, _ in created]
    seen: list[str] = []
    token = ""
    while True:
        page = await caller.operations.get_inventory(
            GetInventoryRequest(
                organization_id=organization,
                project_id="p1",
                effective_status=EffectiveStatus.HEALTHY,
                page_size=2,
                page_token=token,
            ),
            metadata=caller.operator(),
        )
        seen += [item.credential_id for item in page.credentials]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids


async def test_health_check_by_id_records_the_outcome_and_is_audited(caller: Caller) -> None:
    organization = new_org()
    credential, key = await caller.stored(organization)
    caller.accepted.discard(key)
    answer = await caller.operations.run_health_check(
        RunHealthCheckRequest(credential_ids=[credential.id]), metadata=caller.operator()
    )
    assert [result.credential_id for result in answer.results] == [credential.id]
    assert answer.results[0].organization_id == organization
    inventory = await caller.operations.get_inventory(
        GetInventoryRequest(), metadata=caller.tenant(organization)
    )
    assert inventory.credentials[0].effective_status == EffectiveStatus.UNHEALTHY


async def test_health_check_of_all_covers_only_the_callers_tenant(caller: Caller) -> None:
    organization, other = new_org(), new_org()
    mine, _ = await caller.stored(organization)
    await caller.stored(other)
    answer = await caller.operations.run_health_check(
        RunHealthCheckRequest(all=True), metadata=caller.tenant(organization)
    )
    assert [result.credential_id for result in answer.results] == [mine.id]


async def test_another_tenants_credential_cannot_be_checked(caller: Caller) -> None:
    theirs, _ = await caller.stored(new_org())
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.run_health_check(
            RunHealthCheckRequest(credential_ids=[theirs.id]), metadata=caller.tenant(new_org())
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_rotation_swaps_the_key_only_when_someone_else_confirms(caller: Caller) -> None:
    organization = new_org()
    credential, _ = await caller.stored(organization)
    opened = await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential.id, reason="quarterly"),
        metadata=caller.tenant(organization, user="alice"),
    )
    assert opened.rotation is not None
    rotation_id = opened.rotation.id
    replacement = new_key()
    caller.accepted.add(replacement)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.confirm_rotation(
            ConfirmRotationRequest(rotation_id=rotation_id, secret=api_key(replacement)),
            metadata=caller.tenant(organization, user="alice"),
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    unchanged = await caller.credentials.get_credential(
        GetCredentialRequest(id=credential.id), metadata=caller.tenant(organization)
    )
    assert unchanged.credential is not None and unchanged.credential.rotated_by == ""
    confirmed = await caller.operations.confirm_rotation(
        ConfirmRotationRequest(rotation_id=rotation_id, secret=api_key(replacement)),
        metadata=caller.operator(user="olga"),
    )
    assert confirmed.rotation is not None and confirmed.credential is not None
    assert confirmed.rotation.state == RotationState.CONFIRMED
    assert confirmed.rotation.confirmed_by == "subject:olga"
    assert confirmed.credential.secret_hint == "…" + replacement[-4:]
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await caller.operations.confirm_rotation(
            ConfirmRotationRequest(rotation_id=rotation_id, secret=api_key(new_key())),
            metadata=caller.tenant(organization, user="bob"),
        )
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(again.value).reason == "ROTATION_ALREADY_USED"


async def test_a_refused_secret_leaves_the_rotation_open(caller: Caller) -> None:
    organization = new_org()
    credential, _ = await caller.stored(organization)
    opened = await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential.id, reason="leak"),
        metadata=caller.tenant(organization, user="alice"),
    )
    assert opened.rotation is not None
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.confirm_rotation(
            ConfirmRotationRequest(rotation_id=opened.rotation.id, secret=api_key(new_key())),
            metadata=caller.tenant(organization, user="bob"),
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(raised.value).reason == "CREDENTIAL_REJECTED"
    good = new_key()
    caller.accepted.add(good)
    confirmed = await caller.operations.confirm_rotation(
        ConfirmRotationRequest(rotation_id=opened.rotation.id, secret=api_key(good)),
        metadata=caller.tenant(organization, user="bob"),
    )
    assert confirmed.rotation is not None
    assert confirmed.rotation.state == RotationState.CONFIRMED


async def test_an_expired_rotation_is_refused(caller: Caller) -> None:
    organization = new_org()
    credential, _ = await caller.stored(organization)
    opened = await caller.operations.request_rotation(
        RequestRotationRequest(credential_id=credential.id, reason="quarterly"),
        metadata=caller.tenant(organization, user="alice"),
    )
    assert opened.rotation is not None
    pool = caller.service.app.runtime.database.pool
    await pool.execute(
        "UPDATE rotations SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
        opened.rotation.id,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.confirm_rotation(
            ConfirmRotationRequest(rotation_id=opened.rotation.id, secret=api_key(new_key())),
            metadata=caller.operator(),
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(raised.value).reason == "ROTATION_EXPIRED"


async def test_bulk_disable_by_provider_reaches_every_tenant_and_refuses_use(
    caller: Caller,
) -> None:
    first, second = new_org(), new_org()
    one, _ = await caller.stored(first)
    two, _ = await caller.stored(second)
    answer = await caller.operations.disable_credentials(
        DisableCredentialsRequest(provider="openai", reason="key posted publicly"),
        metadata=caller.operator(),
    )
    disabled = {item.credential_id: item for item in answer.disabled}
    assert {one.id, two.id} <= disabled.keys()
    assert disabled[two.id].organization_id == second
    assert disabled[two.id].disabled_reason == "key posted publicly"
    stored = await caller.credentials.get_credential(
        GetCredentialRequest(id=one.id), metadata=caller.tenant(first)
    )
    assert stored.credential is not None
    assert stored.credential.status == CredentialStatus.DISABLED


async def test_a_tenant_may_bulk_disable_only_its_own(caller: Caller) -> None:
    organization = new_org()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await caller.operations.disable_credentials(
            DisableCredentialsRequest(organization_id="other", project_id="p1", reason="x"),
            metadata=caller.tenant(organization),
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    mine, _ = await caller.stored(organization)
    answer = await caller.operations.disable_credentials(
        DisableCredentialsRequest(organization_id=organization, project_id="p1", reason="x"),
        metadata=caller.tenant(organization),
    )
    assert [item.credential_id for item in answer.disabled] == [mine.id]
