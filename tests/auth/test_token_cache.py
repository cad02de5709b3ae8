"""A remembered token behaves exactly like a freshly verified one, expiry included."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from integration_api.auth.token_cache import VerifiedTokenCache
from integration_api.auth.tokens import (
    DEFAULT_LEEWAY_SECONDS,
    TokenPolicy,
    mint_token,
    verify_token,
)
from integration_api.errors import Unauthenticated
from integration_api.principal import Principal

SECRET = "tP3v8-QzKc1WmN0yLr5sXe7hJd2bGf9a"
POLICY = TokenPolicy(SECRET)


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_remembered_token_gives_the_same_principal() -> None:
    cache = VerifiedTokenCache(POLICY)
    token = mint_token(SECRET, organization_id="o", project_id="p", user_id="u")
    first = cache.principal_for(token)
    assert cache.principal_for(token) == first
    assert first.tenant.organization_id == "o"


def test_a_remembered_token_is_verified_again_once_it_expires() -> None:
    clock = Clock()
    verified: list[str] = []

    def counting_verify(policy: TokenPolicy, token: str) -> Principal:
        verified.append(token)
        return verify_token(policy, token)

    cache = VerifiedTokenCache(POLICY, clock=clock, verify=counting_verify)
    token = mint_token(SECRET, organization_id="o", project_id="p", ttl=timedelta(seconds=60))
    cache.principal_for(token)
    cache.principal_for(token)
    assert len(verified) == 1
    clock.now += 60 + DEFAULT_LEEWAY_SECONDS + 1
    cache.principal_for(token)  # past exp and the skew allowance: full verification again
    assert len(verified) == 2


def test_an_expired_token_is_refused() -> None:
    cache = VerifiedTokenCache(POLICY)
    token = mint_token(SECRET, organization_id="o", project_id="p", ttl=timedelta(seconds=-120))
    with pytest.raises(Unauthenticated):
        cache.principal_for(token)


def test_a_token_signed_with_another_secret_is_never_remembered_as_valid() -> None:
    cache = VerifiedTokenCache(POLICY)
    forged = mint_token("x" * 48, organization_id="o", project_id="p")
    for _attempt in range(2):
        with pytest.raises(Unauthenticated):
            cache.principal_for(forged)


def test_capacity_bounds_the_entries() -> None:
    cache = VerifiedTokenCache(POLICY, capacity=3)
    tokens = [mint_token(SECRET, organization_id=f"o{i}", project_id="p") for i in range(5)]
    for token in tokens:
        cache.principal_for(token)
    assert len(cache) == 3
