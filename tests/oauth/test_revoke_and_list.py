"""Revocation at the provider and locally, and listing a tenant's connections."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ConnectionStatus,
    GetAccessTokenRequest,
    ListConnectionsRequest,
    RevokeConnectionRequest,
)

from tests.oauth.database import fetchval
from tests.oauth.support import OAuthWorld


@pytest.mark.parametrize("provider", ["google", "github"])
async def test_revoking_revokes_at_the_provider_and_deletes_the_tokens(
    oauth: OAuthWorld, package_database_dsn: str, provider: str
) -> None:
    connection_id = await oauth.connect(provider, f"revoke-{provider}")
    auth = oauth.service.auth()
    token = await oauth.stub.get_access_token(
        GetAccessTokenRequest(connection_id=connection_id), metadata=auth
    )
    revoked = await oauth.stub.revoke_connection(
        RevokeConnectionRequest(connection_id=connection_id), metadata=auth
    )
    assert revoked.connection.status == ConnectionStatus.REVOKED
    assert oauth.fake(provider).live_token(token.access_token) is None
    stored = await fetchval(
        package_database_dsn,
        "SELECT token_ciphertext FROM oauth_connections WHERE id = $1",
        connection_id,
    )
    assert stored is None
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.stub.get_access_token(
            GetAccessTokenRequest(connection_id=connection_id), metadata=auth
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_revoking_while_the_provider_is_down_still_forgets_the_tokens(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    connection_id = await oauth.connect("google", "revoke-offline")
    oauth.google.http.answer_with_status(503)
    try:
        revoked = await oauth.stub.revoke_connection(
            RevokeConnectionRequest(connection_id=connection_id), metadata=oauth.service.auth()
        )
    finally:
        oauth.google.http.behave_normally()
    assert revoked.connection.status == ConnectionStatus.REVOKED
    assert (
        await fetchval(
            package_database_dsn,
            "SELECT count(*) FROM audit_events WHERE action = 'oauth.connection.revoke' "
            "AND target_id = $1 AND details->>'provider_revoked' = 'false'",
            connection_id,
        )
        == 1
    )
    assert await fetchval(
        package_database_dsn,
        "SELECT token_ciphertext IS NULL FROM oauth_connections WHERE id = $1",
        connection_id,
    )


async def test_another_tenant_cannot_revoke_a_connection(oauth: OAuthWorld) -> None:
    connection_id = await oauth.connect("github", "revoke-isolated")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.stub.revoke_connection(
            RevokeConnectionRequest(connection_id=connection_id),
            metadata=oauth.service.auth(organization_id="org-other"),
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_connections_are_listed_in_pages_and_filtered_by_provider(oauth: OAuthWorld) -> None:
    tenant = {"organization_id": "org-list"}
    ids = {
        await oauth.connect(provider, f"list-{provider}-{n}", **tenant)
        for provider in ("google", "github")
        for n in range(2)
    }
    auth = oauth.service.auth(**tenant)
    seen: list[str] = []
    token = ""
    while True:
        page = await oauth.stub.list_connections(
            ListConnectionsRequest(page_size=3, page_token=token), metadata=auth
        )
        seen += [connection.id for connection in page.connections]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    github = await oauth.stub.list_connections(
        ListConnectionsRequest(provider="github"), metadata=auth
    )
    assert {connection.provider for connection in github.connections} == {"github"}
    assert len(github.connections) == 2
