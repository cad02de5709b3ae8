"""Telnyx: where a stored account's REST calls go and how they authenticate.

See: https://developers.telnyx.com/development/api-fundamentals/authentication
(`Authorization: Bearer <API key>`; every resource under `/v2/`).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential, TelnyxAccount
from integration_api.providers.account_secrets import account_secret_of
from integration_api.providers.endpoints import join_url, resolve_base_url

PROVIDER = "telnyx"
# Call Control needs the Voice API application ("connection") that places the call.
CONNECTION_ID_SETTING = "connection_id"


def telnyx_account(credential: ProviderCredential) -> TelnyxAccount:
    """The Telnyx secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, TelnyxAccount)


def base_url(credential: ProviderCredential) -> str:
    """The REST API's root: `config.base_url`, else `https://api.telnyx.com`."""
    return resolve_base_url(PROVIDER, credential.config)


def api_url(credential: ProviderCredential, path: str) -> str:
    """`{base}/v2/` followed by `path` (e.g. `calls`)."""
    return join_url(join_url(base_url(credential), "v2"), path)


def connection_id(credential: ProviderCredential) -> str:
    """The credential's default `config.extra["connection_id"]` ('' when none is set)."""
    return credential.config.extra.get(CONNECTION_ID_SETTING, "")


def auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for a REST call with this credential."""
    return {"Authorization": f"Bearer {telnyx_account(credential).api_key}"}
