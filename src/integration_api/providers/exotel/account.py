"""Exotel: where a stored account's REST calls go and how they authenticate.

See: https://developer.exotel.com/docs/references/authentication (Basic auth with the API key
and API token, the account SID in the path). The host depends on the account's cluster:
`config.region` `sg` is api.exotel.com (Singapore), `in` is api.in.exotel.com (Mumbai).
"""

from __future__ import annotations

from integration_api.credentials.model import ExotelAccount, ProviderCredential
from integration_api.providers.account_secrets import account_secret_of, basic_authorization
from integration_api.providers.endpoints import join_url, resolve_base_url

PROVIDER = "exotel"


def exotel_account(credential: ProviderCredential) -> ExotelAccount:
    """The Exotel secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, ExotelAccount)


def base_url(credential: ProviderCredential) -> str:
    """The REST API's root: `config.base_url`, else the host of `config.region`."""
    return resolve_base_url(PROVIDER, credential.config)


def account_url(credential: ProviderCredential, path: str = "") -> str:
    """`{base}/v1/Accounts/{AccountSid}` followed by `path` (e.g. `Calls/connect`)."""
    sid = exotel_account(credential).account_sid
    root = join_url(base_url(credential), f"v1/Accounts/{sid}")
    return join_url(root, path) if path else root


def basic_pair(credential: ProviderCredential) -> tuple[str, str]:
    """The Basic user and password: the API key and API token."""
    account = exotel_account(credential)
    return account.api_key, account.api_token


def auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for a REST call with this credential."""
    return {"Authorization": basic_authorization(*basic_pair(credential))}
