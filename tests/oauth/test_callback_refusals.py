"""Every case the callback must refuse (RFC 9700 checklist, O1): nothing stored, no token
request where none is due, a reason code for the browser, one audit event."""

from __future__ import annotations

import asyncpg
import grpc
import pytest
from integration_api_proto.integration.v1 import (
    CompleteAuthorizationRequest,
    ListConnectionsRequest,
)

from tests.fakes.oauth_server import Account
from tests.oauth.support import OAuthWorld, get, landed, query_of, with_query


async def _refusal_audits(dsn: str, reason: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM audit_events WHERE action = 'oauth.authorization.complete' "
            "AND outcome = 'failure' AND details->>'reason' = $1",
            reason,
        )
    finally:
        await connection.close()
    return int(count)


def _plain_refusal(answer_status: int, text: str, reason: str) -> None:
    assert answer_status == 400
    assert f"Reason: {reason}" in text


async def test_missing_state_is_refused_and_not_audited(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    before = await _refusal_audits(package_database_dsn, "state_missing")
    answer = await get(f"{oauth.callback_url}/google?code=some-code")
    _plain_refusal(answer.status_code, answer.text, "state_missing")
    assert await _refusal_audits(package_database_dsn, "state_missing") == before


async def test_unknown_state_is_refused(oauth: OAuthWorld) -> None:
    answer = await get(f"{oauth.callback_url}/google?state=not-a-state-we-issued&code=c")
    _plain_refusal(answer.status_code, answer.text, "state_unknown")


async def test_expired_state_is_refused_without_a_token_request(
    oauth: OAuthWorld, package_database_dsn: str
) -> None:
    started = await oauth.start("google", "expired")
    callback = await oauth.authorize_code(started)
    connection = await asyncpg.connect(package_database_dsn)
    try:
        await connection.execute(
            "UPDATE oauth_states SET expires_at = now() - interval '1 second' "
            "WHERE connection_name = 'expired'"
        )
    finally:
        await connection.close()
    exchanges = len(oauth.google.http.requests_to("/token"))
    answer = await get(callback)
    assert query_of(answer.headers["location"]) == {"status": "error", "reason": "state_expired"}
    assert len(oauth.google.http.requests_to("/token")) == exchanges


async def test_a_replayed_state_is_refused_and_the_code_is_exchanged_once(
    oauth: OAuthWorld,
) -> None:
    started = await oauth.start("github", "replayed")
    callback = await oauth.authorize_code(started)
    first = await get(callback)
    assert query_of(first.headers["location"])["status"] == "authorized"
    exchanges = len(oauth.github.http.requests_to("/login/oauth/access_token"))
    replay = await get(callback)
    _plain_refusal(replay.status_code, replay.text, "state_unknown")
    assert len(oauth.github.http.requests_to("/login/oauth/access_token")) == exchanges


async def test_a_state_issued_for_google_is_refused_at_githubs_callback(
    oauth: OAuthWorld,
) -> None:
    started = await oauth.start("google", "mixup")
    callback = await oauth.authorize_code(started)
    at_github = callback.replace("/oauth/callback/google", "/oauth/callback/github")
    exchanges = [
        len(oauth.google.http.requests_to("/token")),
        len(oauth.github.http.requests_to("/login/oauth/access_token")),
    ]
    answer = await get(at_github)
    location = query_of(answer.headers["location"])
    assert location == {"status": "error", "reason": "state_provider_mismatch"}
    assert exchanges == [
        len(oauth.google.http.requests_to("/token")),
        len(oauth.github.http.requests_to("/login/oauth/access_token")),
    ]


async def test_another_tenants_state_answers_like_an_unknown_one(oauth: OAuthWorld) -> None:
    started = await oauth.start("google", "cross-tenant")
    callback = query_of(await oauth.authorize_code(started))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.stub.complete_authorization(
            CompleteAuthorizationRequest(state=callback["state"], code=callback["code"]),
            metadata=oauth.service.auth(organization_id="org-other"),
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "unknown" in (raised.value.details() or "")


async def test_a_user_who_declines_lands_with_access_denied_and_no_token_request(
    oauth: OAuthWorld,
) -> None:
    oauth.google.behaviour.decline = True
    exchanges = len(oauth.google.http.requests_to("/token"))
    landing = await oauth.browse((await oauth.start("google", "declined")).authorization_url)
    assert landed(landing) == {"status": "error", "reason": "access_denied"}
    assert len(oauth.google.http.requests_to("/token")) == exchanges


async def test_a_callback_without_code_is_refused(oauth: OAuthWorld) -> None:
    callback = await oauth.authorize_code(await oauth.start("google", "no-code"))
    answer = await get(with_query(callback, code=None))
    assert query_of(answer.headers["location"]) == {"status": "error", "reason": "code_missing"}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("state=a&state=b&code=c", "parameter_repeated"),
        ("state=a&code=c&code=d", "parameter_repeated"),
        ("state=a&code=" + "x" * 2000, "parameter_too_long"),
        ("state=" + "s" * 200 + "&code=c", "parameter_too_long"),
        ("state=a&code=c&pad=" + "p" * 5000, "parameter_too_long"),
    ],
)
async def test_repeated_or_oversized_parameters_are_refused(
    oauth: OAuthWorld, query: str, reason: str
) -> None:
    answer = await get(f"{oauth.callback_url}/google?{query}")
    _plain_refusal(answer.status_code, answer.text, reason)


@pytest.mark.parametrize(
    "redirect_after",
    [
        "https://evil.example/done",
        "//evil.example/done",
        "/\\evil.example/done",
        "https:%2F%2Fevil.example%2Fdone",
        "{done}?next=https://evil.example",
        "{done}/../elsewhere",
        "{done}%2F..%2Fevil",
        "{done}#frag",
    ],
)
async def test_redirect_after_off_the_allow_list_is_refused_at_start(
    oauth: OAuthWorld, redirect_after: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await oauth.start(
            "google", "open-redirect", redirect_after=redirect_after.format(done=oauth.done_url)
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "redirect_after" in (raised.value.details() or "")


async def test_a_token_response_without_an_access_token_stores_nothing(oauth: OAuthWorld) -> None:
    oauth.google.behaviour.omit_access_token = True
    landing = await oauth.browse((await oauth.start("google", "no-token")).authorization_url)
    assert landed(landing) == {"status": "error", "reason": "token_response_invalid"}
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(), metadata=oauth.service.auth()
    )
    assert "no-token" not in {connection.name for connection in listed.connections}


async def test_scopes_narrower_than_requested_are_stored_as_granted(oauth: OAuthWorld) -> None:
    oauth.google.behaviour.granted_scope = "openid email"
    connection_id = await oauth.connect("google", "narrow")
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(), metadata=oauth.service.auth()
    )
    connection = next(c for c in listed.connections if c.id == connection_id)
    assert list(connection.scopes) == ["email", "openid"]


async def test_a_code_already_used_is_refused_by_github_with_200_and_nothing_stored(
    oauth: OAuthWorld,
) -> None:
    first = await oauth.authorize_code(await oauth.start("github", "used-code"))
    assert query_of((await get(first)).headers["location"])["status"] == "authorized"
    second = await oauth.authorize_code(await oauth.start("github", "used-code-again"))
    reused = with_query(second, code=query_of(first)["code"])
    answer = await get(reused)
    assert query_of(answer.headers["location"]) == {"status": "error", "reason": "code_rejected"}
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(), metadata=oauth.service.auth()
    )
    assert "used-code-again" not in {connection.name for connection in listed.connections}


async def test_another_account_cannot_take_over_an_existing_connection(oauth: OAuthWorld) -> None:
    connection_id = await oauth.connect("github", "takeover")
    oauth.github.behaviour.account = Account(5151, "mallory", "mallory@example.com", True)
    landing = await oauth.browse((await oauth.start("github", "takeover")).authorization_url)
    assert landed(landing) == {"status": "error", "reason": "account_mismatch"}
    listed = await oauth.stub.list_connections(
        ListConnectionsRequest(), metadata=oauth.service.auth()
    )
    connection = next(c for c in listed.connections if c.id == connection_id)
    assert connection.account_id == "4242"


@pytest.mark.parametrize("name", ["code", "error", "error_description"])
async def test_a_nul_in_a_callback_parameter_is_refused_before_anything_is_stored(
    oauth: OAuthWorld, name: str
) -> None:
    """No provider sends a NUL, and PostgreSQL text (where a matched state's outcome is
    audited) cannot hold one: such a callback is refused like any malformed parameter."""
    callback = await oauth.authorize_code(await oauth.start("google", f"nul-{name}"))
    changes = {name: "a\x00b"} if name == "code" else {"code": None, name: "a\x00b"}
    if name == "error_description":
        changes["error"] = "access_denied"
    answer = await get(with_query(callback, **changes))
    _plain_refusal(answer.status_code, answer.text, "parameter_invalid")
