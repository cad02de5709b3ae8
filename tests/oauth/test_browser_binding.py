"""A consented flow becomes a usable connection only through the completion step, made from the
session of the user who started it (RFC 9700 §4.7). The case this closes: a tenant starts a flow
and sends the authorization link to someone else, whose consent used to land their tokens in
that tenant's connection."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    CompleteAuthorizationRequest,
    ConnectionStatus,
    ListConnectionsRequest,
    StartAuthorizationRequest,
)

from tests.fakes.oauth_server import Account, FakeOAuthProvider
from tests.oauth.database import fetchval
from tests.oauth.support import GOOGLE_SCOPES, OAuthWorld, landed, query_of

ATTACKER = {"organization_id": "org-mallory", "project_id": "p", "user_id": "mallory"}
VICTIM = {"organization_id": "org-alice", "project_id": "p", "user_id": "alice"}
# Someone else inside the attacker's own tenant.
COLLEAGUE = {"organization_id": "org-mallory", "project_id": "p", "user_id": "bob"}


async def _refused(oauth: OAuthWorld, request: CompleteAuthorizationRequest, **caller: str) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.stub.complete_authorization(request, metadata=oauth.service.auth(**caller))
    return f"{raised.value.code().name} {raised.value.details()}"


async def _names(oauth: OAuthWorld, **caller: str) -> set[str]:
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(), metadata=oauth.service.auth(**caller)
    )
    return {connection.name for connection in listed.connections}


def _tokens_of(fake: FakeOAuthProvider, account_id: int) -> list[str]:
    return [
        value
        for value, token in fake.tokens.items()
        if token.account.id == account_id and value == token.access_token
    ]


async def test_a_link_sent_to_someone_else_never_becomes_the_senders_connection(
    oauth: OAuthWorld,
) -> None:
    oauth.google.behaviour.account = Account(7001, "alice", "alice@example.com")
    started = await oauth.start("google", "bait", scopes=None, **ATTACKER)
    # The victim opens the link and consents; the platform page in *their* browser gets the code.
    outcome = landed(await oauth.browse(started.authorization_url))
    assert outcome["status"] == "authorized"
    code = outcome["completion_code"]
    # Nothing is usable by the sender yet.
    assert "bait" not in await _names(oauth, **ATTACKER)
    # The victim's session (another tenant), or another user of the sender's tenant, cannot
    # complete it either: the code answers as if it did not exist.
    by_code = CompleteAuthorizationRequest(completion_code=code)
    assert (await _refused(oauth, by_code, **VICTIM)).startswith("NOT_FOUND")
    assert (await _refused(oauth, by_code, **COLLEAGUE)).startswith("NOT_FOUND")
    # The sender holds the state but not the code: neither completes anything.
    by_state = CompleteAuthorizationRequest(state=started.state, code="guessed")
    assert "state is unknown" in await _refused(oauth, by_state, **ATTACKER)
    as_code = CompleteAuthorizationRequest(completion_code=started.state)
    assert (await _refused(oauth, as_code, **ATTACKER)).startswith("NOT_FOUND")
    assert "bait" not in await _names(oauth, **ATTACKER)
    assert "bait" not in await _names(oauth, **VICTIM)


async def test_another_user_presenting_the_code_leaves_it_for_the_user_who_started(
    oauth: OAuthWorld,
) -> None:
    code = await oauth.consent("github", "own-flow", **ATTACKER)
    by_code = CompleteAuthorizationRequest(completion_code=code)
    assert (await _refused(oauth, by_code, **COLLEAGUE)).startswith("NOT_FOUND")
    assert (await _refused(oauth, by_code, **VICTIM)).startswith("NOT_FOUND")
    connection = await oauth.complete(code, **ATTACKER)
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.name == "own-flow"
    # Single use.
    assert (await _refused(oauth, by_code, **ATTACKER)).startswith("NOT_FOUND")


async def test_a_platform_service_token_binds_the_flow_to_the_user_it_names(
    oauth: OAuthWorld,
) -> None:
    service = {"organization_id": "org-svc", "project_id": "p", "user_id": ""}
    started = await oauth.stub.start_authorization(
        StartAuthorizationRequest(
            provider="google",
            scopes=GOOGLE_SCOPES,
            connection_name="named-user",
            redirect_after=oauth.done_url,
            user_id="end-user-1",
        ),
        metadata=oauth.service.auth(**service),
    )
    code = landed(await oauth.browse(started.authorization_url))["completion_code"]
    for someone in ("", "end-user-2"):
        request = CompleteAuthorizationRequest(completion_code=code, user_id=someone)
        assert (await _refused(oauth, request, **service)).startswith("NOT_FOUND")
    request = CompleteAuthorizationRequest(completion_code=code, user_id="end-user-1")
    answer = await oauth.stub.complete_authorization(
        request, metadata=oauth.service.auth(**service)
    )
    assert answer.connection is not None
    assert answer.connection.status == ConnectionStatus.ACTIVE


async def test_a_token_that_names_a_user_cannot_act_for_another(oauth: OAuthWorld) -> None:
    request = CompleteAuthorizationRequest(completion_code="x" * 43, user_id="someone-else")
    assert (await _refused(oauth, request, **ATTACKER)).startswith("INVALID_ARGUMENT user_id")


async def test_state_and_code_completion_is_bound_to_the_user_who_started(
    oauth: OAuthWorld,
) -> None:
    """A platform that receives the provider's callback itself completes with state and code;
    another user of the tenant presenting them does not use up the state."""
    started = await oauth.start("google", "own-callback", scopes=None, **ATTACKER)
    callback = query_of(await oauth.authorize_code(started))
    request = CompleteAuthorizationRequest(state=callback["state"], code=callback["code"])
    assert "state is unknown" in await _refused(oauth, request, **COLLEAGUE)
    answer = await oauth.stub.complete_authorization(
        request, metadata=oauth.service.auth(**ATTACKER)
    )
    assert answer.connection is not None
    assert answer.connection.status == ConnectionStatus.ACTIVE


async def test_the_shim_cannot_finish_a_flow_that_named_no_redirect_after(
    oauth: OAuthWorld,
) -> None:
    started = await oauth.start("google", "nowhere-to-go", redirect_after="")
    answer = await oauth.browse(started.authorization_url)
    assert answer.status_code == 400
    assert "Reason: redirect_after_missing" in answer.text


async def test_an_unclaimed_consent_expires_and_its_grant_is_revoked(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    oauth.github.behaviour.account = Account(7002, "carol", "carol@example.com")
    code = await oauth.consent("github", "abandoned", **ATTACKER)
    [issued] = _tokens_of(oauth.github, 7002)
    assert oauth.github.live_token(issued) is not None
    await fetchval(
        package_database_dsn,
        "UPDATE oauth_pending_connections SET expires_at = now() - interval '1 second' "
        "WHERE connection_name = 'abandoned'",
    )
    request = CompleteAuthorizationRequest(completion_code=code)
    assert (await _refused(oauth, request, **ATTACKER)).startswith("NOT_FOUND")
    runtime = oauth.service.app.runtime
    assert runtime is not None
    await runtime.oauth_ops.keepalive.run_once()
    left = await fetchval(
        package_database_dsn,
        "SELECT count(*) FROM oauth_pending_connections WHERE connection_name = 'abandoned'",
    )
    assert left == 0
    assert oauth.github.live_token(issued) is None


async def test_an_unclaimed_reconnect_does_not_revoke_the_grant_a_live_connection_holds(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    oauth.github.behaviour.account = Account(7003, "dave", "dave@example.com")
    await oauth.connect("github", "kept", **ATTACKER)
    [kept] = _tokens_of(oauth.github, 7003)
    await oauth.consent("github", "kept", **ATTACKER)  # a reconnect nobody completes
    await fetchval(
        package_database_dsn,
        "UPDATE oauth_pending_connections SET expires_at = now() - interval '1 second' "
        "WHERE connection_name = 'kept'",
    )
    runtime = oauth.service.app.runtime
    assert runtime is not None
    await runtime.oauth_ops.keepalive.run_once()
    assert oauth.github.live_token(kept) is not None
