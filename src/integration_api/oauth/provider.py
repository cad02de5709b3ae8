"""What the flow needs to know about one OAuth provider; each provider module builds one."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from integration_api.oauth.tokens import TokenSet
from integration_api.providers.http_client import ProviderClient


@dataclass(frozen=True)
class Account:
    """Who authorized: the provider's stable account id and, when known, an email."""

    account_id: str
    email: str


AccountReader = Callable[[ProviderClient, "OAuthProvider", TokenSet], Awaitable[Account]]
Revoker = Callable[[ProviderClient, "OAuthProvider", TokenSet], Awaitable[None]]


@dataclass(frozen=True)
class OAuthProvider:
    name: str
    # The provider id the transport's egress policy knows this provider's hosts by.
    egress_id: str
    client_id: str
    client_secret: str = field(repr=False)
    authorization_url: str
    token_url: str
    userinfo_url: str
    revoke_url: str
    # Sent on every authorization request, after the standard parameters.
    authorization_extras: Mapping[str, str]
    read_account: AccountReader
    revoke: Revoker

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.client_secret,)


def endpoint(configured: str, default: str) -> str:
    return configured or default


def basic_authorization(user: str, password: str) -> str:
    """An HTTP Basic `Authorization` value (GitHub's application API authenticates so)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
