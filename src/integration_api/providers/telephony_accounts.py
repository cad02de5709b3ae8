"""A telephony account's REST API reached with HTTP Basic under a root path of its own.

Twilio (`/2010-04-01/Accounts/{AccountSid}`), Plivo (`/v1/Account/{auth_id}/`) and Exotel
(`/v1/Accounts/{AccountSid}`) each keep every resource of an account under a path naming the
account, on a host `config.base_url` or `config.region` chooses, and authenticate with a Basic
user and password taken from the stored secret. Only the path and the pair differ: each folder's
`account` module describes them with one `BasicAccountApi`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic

from integration_api.credentials.model import ProviderCredential
from integration_api.providers.account_secrets import (
    AccountT,
    account_secret_of,
    basic_authorization,
)
from integration_api.providers.endpoints import join_url, resolve_base_url


class BasicAccountApi(Generic[AccountT]):
    """Where one provider's account resources live and how a request to them authenticates."""

    def __init__(
        self,
        provider: str,
        account_class: type[AccountT],
        root: Callable[[AccountT], str],
        basic_pair: Callable[[AccountT], tuple[str, str]],
    ) -> None:
        self.provider = provider
        self._account_class = account_class
        self._root = root
        self._basic_pair = basic_pair

    def account(self, credential: ProviderCredential) -> AccountT:
        """The credential's secret of this provider's kind (`InvalidArgument` for any other)."""
        return account_secret_of(credential, self._account_class)

    def base_url(self, credential: ProviderCredential) -> str:
        """The REST API's root: `config.base_url`, else the host of `config.region` or the
        provider's own."""
        return resolve_base_url(self.provider, credential.config)

    def account_url(self, credential: ProviderCredential, path: str = "") -> str:
        """The account's root URL followed by `path` (a trailing slash of the root is kept)."""
        root = join_url(self.base_url(credential), self._root(self.account(credential)))
        return join_url(root, path) if path else root

    def basic_pair(self, credential: ProviderCredential) -> tuple[str, str]:
        """The Basic user and password of a request with this credential."""
        return self._basic_pair(self.account(credential))

    def auth_headers(self, credential: ProviderCredential) -> dict[str, str]:
        """The `Authorization` header for a REST call with this credential."""
        return {"Authorization": basic_authorization(*self.basic_pair(credential))}
