"""OAuth connections in the inventory, through a real gRPC client: who sees which, their state,
filters, totals and pages; never a token."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ConnectionStatus,
    EffectiveStatus,
    GetAccessTokenRequest,
    GetInventoryRequest,
    GetInventoryResponse,
    RevokeConnectionRequest,
)
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from integration_api.auth.tokens import mint_token
from tests.oauth.database import expire_in
from tests.oauth.support import GOOGLE_SCOPES, OAuthWorld, oauth_world
from tests.ops.support import Caller, Metadata

PROJECT = "p1"


@pytest.fixture(scope="module")
async def world(package_database_dsn: str) -> AsyncIterator[OAuthWorld]:
    async with oauth_world(package_database_dsn) as world:
        yield world


def new_org() -> str:
    return "org-" + secrets.token_hex(3)


def operator(world: OAuthWorld) -> Metadata:
    token = mint_token(
        world.service.settings.secret,
        organization_id="ops",
        project_id="ops",
        subject="olga",
        operator=True,
    )
    return (("authorization", f"Bearer {token}"),)


async def inventory(
    world: OAuthWorld, metadata: Metadata, **request: object
) -> GetInventoryResponse:
    stub = OperationsServiceStub(world.service.channel)
    return await stub.get_inventory(GetInventoryRequest(**request), metadata=metadata)  # type: ignore[arg-type]


async def connect(world: OAuthWorld, provider: str, organization: str, name: str = "main") -> str:
    return await world.connect(provider, name, organization_id=organization, project_id=PROJECT)


async def test_operator_sees_every_tenants_connections_and_a_tenant_only_its_own(
    world: OAuthWorld,
) -> None:
    first, second = new_org(), new_org()
    mine = await connect(world, "google", first)
    theirs = await connect(world, "github", second)
    as_tenant = await inventory(
        world, world.service.auth(organization_id=first, project_id=PROJECT)
    )
    assert [item.connection_id for item in as_tenant.connections] == [mine]
    as_operator = await inventory(world, operator(world), page_size=500)
    seen = {item.connection_id: item for item in as_operator.connections}
    assert {mine, theirs} <= seen.keys()
    item = seen[mine]
    assert (item.organization_id, item.project_id) == (first, PROJECT)
    assert (item.provider, item.name, item.status) == ("google", "main", ConnectionStatus.ACTIVE)
    assert sorted(item.scopes) == sorted(GOOGLE_SCOPES)
    assert item.refreshable and item.status_reason == ""
    assert item.access_token_expires_at is not None and item.last_refreshed_at is not None
    assert item.created_by == "subject:user-1"
    printed = as_operator.to_json()
    for token in [*world.google.tokens.values(), *world.github.tokens.values()]:
        assert token.access_token not in printed
        assert token.refresh_token is None or token.refresh_token not in printed


async def test_revoked_and_reauthorization_required_connections_show_why_and_filter(
    world: OAuthWorld, package_database_dsn: str
) -> None:
    organization = new_org()
    tenant = world.service.auth(organization_id=organization, project_id=PROJECT)
    active = await connect(world, "google", organization, "active")
    revoked = await connect(world, "google", organization, "revoked")
    refused = await connect(world, "google", organization, "refused")
    await world.stub.revoke_connection(
        RevokeConnectionRequest(connection_id=revoked), metadata=tenant
    )
    for token in world.google.tokens.values():
        token.revoked = True  # the user withdrew access at the provider
    await expire_in(package_database_dsn, refused, -60)
    with pytest.raises(grpc.aio.AioRpcError):
        await world.stub.get_access_token(
            GetAccessTokenRequest(connection_id=refused), metadata=tenant
        )
    everything = await inventory(world, tenant)
    status = {item.connection_id: item.status for item in everything.connections}
    assert status == {
        active: ConnectionStatus.ACTIVE,
        revoked: ConnectionStatus.REVOKED,
        refused: ConnectionStatus.REAUTHORIZATION_REQUIRED,
    }
    reasons = {item.connection_id: item.status_reason for item in everything.connections}
    assert reasons[refused] == "the provider refused the refresh token"
    assert reasons[revoked] != ""
    google = next(agg for agg in everything.connection_providers if agg.provider == "google")
    totals = (google.connections, google.active, google.reauthorization_required, google.revoked)
    assert totals == (3, 1, 1, 1)
    needing_user = await inventory(
        world, tenant, connection_status=ConnectionStatus.REAUTHORIZATION_REQUIRED
    )
    assert [item.connection_id for item in needing_user.connections] == [refused]
    assert needing_user.credentials == []


async def test_pages_run_through_credentials_then_connections_under_one_token(
    world: OAuthWorld, caller: Caller
) -> None:
    organization = new_org()
    credential, _ = await caller.stored(organization)
    connections = [await connect(world, "github", organization, f"c{n}") for n in range(3)]
    credentials_seen: list[str] = []
    connections_seen: list[str] = []
    pages, token = 0, ""
    while True:
        page = await inventory(
            world,
            operator(world),
            organization_id=organization,
            project_id=PROJECT,
            page_size=2,
            page_token=token,
        )
        pages += 1
        assert len(page.credentials) + len(page.connections) <= 2
        credentials_seen += [item.credential_id for item in page.credentials]
        connections_seen += [item.connection_id for item in page.connections]
        token = page.next_page_token
        if not token:
            break
    assert (credentials_seen, connections_seen, pages) == ([credential.id], connections, 2)


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"provider": "nobody"}, "provider"),
        (
            {
                "effective_status": EffectiveStatus.HEALTHY,
                "connection_status": ConnectionStatus.ACTIVE,
            },
            "connection_status",
        ),
    ],
)
async def test_unknown_providers_and_two_status_filters_are_refused(
    world: OAuthWorld, request_fields: dict[str, object], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inventory(world, operator(world), **request_fields)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (raised.value.details() or "")


async def test_a_credential_status_filter_leaves_connections_out_and_an_oauth_provider_filters(
    world: OAuthWorld,
) -> None:
    organization = new_org()
    tenant = world.service.auth(organization_id=organization, project_id=PROJECT)
    github = await connect(world, "github", organization)
    await connect(world, "google", organization)
    healthy_only = await inventory(world, tenant, effective_status=EffectiveStatus.HEALTHY)
    assert healthy_only.connections == [] and healthy_only.next_page_token == ""
    by_provider = await inventory(world, tenant, provider="github")
    assert [item.connection_id for item in by_provider.connections] == [github]
    assert [agg.provider for agg in by_provider.connection_providers] == ["github"]
