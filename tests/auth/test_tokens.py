"""What a service token must satisfy besides its signature: lifetime, audience, issuer, ids."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest

from integration_api.auth.tokens import TokenPolicy, mint_token, verify_token
from integration_api.config import ConfigError
from integration_api.config.loaders import jwt_settings
from integration_api.errors import Unauthenticated

SECRET = "tP3v8-QzKc1WmN0yLr5sXe7hJd2bGf9a"
DAY = 86_400


def _signed(**claims: Any) -> str:
    base: dict[str, Any] = {"organizationId": "org-1", "projectId": "project-1"}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET, "HS256")


def _refusal(policy: TokenPolicy, token: str) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verify_token(policy, token)
    return raised.value.message


def test_a_token_of_the_platforms_24_hours_is_accepted() -> None:
    token = mint_token(SECRET, organization_id="o", project_id="p", ttl=timedelta(hours=24))
    assert verify_token(TokenPolicy(SECRET), token).tenant.organization_id == "o"


CENTURY = 100 * 365 * DAY


@pytest.mark.parametrize(
    ("issued", "expires"),
    [
        pytest.param(0, CENTURY, id="a century, with iat"),
        pytest.param(None, CENTURY, id="a century, without iat"),
        pytest.param(0, DAY + 1, id="one second over a day"),
        pytest.param(-3600, DAY - 3600 + 1, id="issued an hour ago, over a day in all"),
    ],
)
def test_a_token_living_longer_than_the_maximum_is_refused(
    issued: int | None, expires: int
) -> None:
    now = int(time.time())
    token = _signed(iat=None if issued is None else now + issued, exp=now + expires)
    reason = _refusal(TokenPolicy(SECRET), token)
    assert reason == "token lifetime exceeds 86400 seconds (JWT_MAX_TTL_SECONDS)"


def test_the_maximum_lifetime_is_configurable() -> None:
    token = mint_token(SECRET, organization_id="o", project_id="p", ttl=timedelta(minutes=10))
    assert "lifetime" in _refusal(TokenPolicy(SECRET, max_ttl_seconds=300), token)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({}, "token has no aud claim"),
        ({"aud": "another-service", "iss": "assistant-api"}, "token audience is not accepted"),
        ({"aud": "integration-api"}, "token has no iss claim"),
        ({"aud": "integration-api", "iss": "elsewhere"}, "token issuer is not accepted"),
    ],
)
def test_configured_audience_and_issuer_are_required(claims: dict[str, Any], reason: str) -> None:
    policy = TokenPolicy(SECRET, audience="integration-api", issuer="assistant-api")
    now = int(time.time())
    assert _refusal(policy, _signed(iat=now, exp=now + 60, **claims)) == reason


def test_a_token_with_the_configured_audience_and_issuer_is_accepted() -> None:
    policy = TokenPolicy(SECRET, audience="integration-api", issuer="assistant-api")
    token = mint_token(
        SECRET,
        organization_id="o",
        project_id="p",
        audience="integration-api",
        issuer="assistant-api",
    )
    assert verify_token(policy, token).tenant.project_id == "p"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"organizationId": 1}, "token organizationId must be a string"),
        ({"projectId": 7.0}, "token projectId must be a string"),
        ({"projectId": True}, "token projectId must be a string"),
        ({"organizationId": ["o"]}, "token organizationId must be a string"),
        ({"organizationId": "o\u00a0"}, "token organizationId has surrounding whitespace"),
        ({"projectId": " p"}, "token projectId has surrounding whitespace"),
        ({"organizationId": "o\x00x"}, "token organizationId contains control characters"),
        ({"projectId": "p\u202ex"}, "token projectId contains control characters"),
        ({"organizationId": "o" * 257}, "token organizationId is longer than 256 characters"),
        ({"userId": "u\nforged log line"}, "token userId contains control characters"),
        ({"userId": {"name": "x"}}, "token userId must be a string or a whole number"),
        ({"sub": "service\x1b[31m"}, "token sub contains control characters"),
    ],
)
def test_ids_are_used_exactly_as_given_or_refused(claims: dict[str, Any], reason: str) -> None:
    now = int(time.time())
    assert _refusal(TokenPolicy(SECRET), _signed(iat=now, exp=now + 60, **claims)) == reason


def test_a_numeric_user_id_labels_the_actor_as_its_text() -> None:
    now = int(time.time())
    principal = verify_token(TokenPolicy(SECRET), _signed(iat=now, exp=now + 60, userId=5))
    assert principal.actor == "subject:5"


def test_user_id_and_sub_of_one_name_are_one_actor_and_sub_decides() -> None:
    now = int(time.time())
    policy = TokenPolicy(SECRET)
    by_user = verify_token(policy, _signed(iat=now, exp=now + 60, userId="op1"))
    by_subject = verify_token(policy, _signed(iat=now, exp=now + 60, sub="op1"))
    both = verify_token(policy, _signed(iat=now, exp=now + 60, sub="op1", userId="someone"))
    assert by_user.actor == by_subject.actor == both.actor == "subject:op1"


def test_an_operator_token_must_name_its_subject() -> None:
    now = int(time.time())
    unnamed = _signed(iat=now, exp=now + 60, userId="olga", roles=["operator"])
    assert _refusal(TokenPolicy(SECRET), unnamed) == (
        "an operator token must name its person in the sub claim"
    )
    named = _signed(iat=now, exp=now + 60, sub="olga", roles=["operator"])
    assert verify_token(TokenPolicy(SECRET), named).operator


def test_a_token_is_accepted_within_the_leeway_after_it_expired() -> None:
    now = int(time.time())
    token = _signed(iat=now - 600, exp=now - 20)

    assert verify_token(TokenPolicy(SECRET), token).tenant.organization_id == "org-1"
    assert _refusal(TokenPolicy(SECRET, leeway_seconds=0), token) == "token expired"


def test_a_token_past_the_leeway_is_expired() -> None:
    now = int(time.time())
    token = _signed(iat=now - 600, exp=now - 40)

    assert _refusal(TokenPolicy(SECRET), token) == "token expired"
    assert verify_token(TokenPolicy(SECRET, leeway_seconds=60), token)


def test_a_token_not_yet_valid_is_accepted_within_the_leeway() -> None:
    now = int(time.time())
    token = _signed(iat=now, nbf=now + 20, exp=now + 600)

    assert verify_token(TokenPolicy(SECRET), token)
    assert _refusal(TokenPolicy(SECRET, leeway_seconds=5), token) == "token not yet valid"


@pytest.mark.parametrize(("value", "accepted"), [("0", 0), ("300", 300), ("", 30)])
def test_the_leeway_is_read_from_jwt_leeway_seconds(value: str, accepted: int) -> None:
    policy = TokenPolicy.from_settings(SECRET, jwt_settings({"JWT_LEEWAY_SECONDS": value}))
    assert policy.leeway_seconds == accepted


@pytest.mark.parametrize("value", ["-1", "301", "soon"])
def test_a_leeway_out_of_range_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^JWT_LEEWAY_SECONDS must be"):
        jwt_settings({"JWT_LEEWAY_SECONDS": value})
