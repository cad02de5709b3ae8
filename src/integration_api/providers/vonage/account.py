"""Vonage: where a stored account's REST calls go and how they authenticate.

Two hosts and two schemes. Account reads (balance) go to rest.nexmo.com with Basic auth of the
API key and secret (https://developer.vonage.com/api/account); the Voice API goes to
api.nexmo.com (or a regional host) with a short-lived RS256 JWT signed with the application's
private key (https://developer.vonage.com/en/getting-started/concepts/authentication). A
configured `config.base_url` replaces both hosts (a proxy or a test double serves both paths).
"""

from __future__ import annotations

from integration_api.credentials.model import ProviderCredential, VonageAccount
from integration_api.errors import InvalidArgument
from integration_api.providers.account_secrets import account_secret_of, basic_authorization
from integration_api.providers.endpoints import join_url, resolve_base_url
from integration_api.providers.key_material import SECRET_FIELD

PROVIDER = "vonage"
REST_BASE_URL = "https://rest.nexmo.com"


def vonage_account(credential: ProviderCredential) -> VonageAccount:
    """The Vonage secret of a credential (`InvalidArgument` for any other kind)."""
    return account_secret_of(credential, VonageAccount)


def rest_base_url(credential: ProviderCredential) -> str:
    """The account API's root: `config.base_url`, else `https://rest.nexmo.com`."""
    return resolve_base_url(PROVIDER, credential.config, default=REST_BASE_URL)


def voice_base_url(credential: ProviderCredential) -> str:
    """The Voice API's root: `config.base_url`, else api.nexmo.com or the region's host."""
    return resolve_base_url(PROVIDER, credential.config)


def voice_url(credential: ProviderCredential, path: str) -> str:
    """`{voice base}/v1/` followed by `path` (e.g. `calls`)."""
    return join_url(join_url(voice_base_url(credential), "v1"), path)


def basic_pair(credential: ProviderCredential) -> tuple[str, str]:
    """The Basic user and password of the account API: the API key and secret."""
    account = vonage_account(credential)
    if not account.api_secret:
        raise InvalidArgument.for_field(SECRET_FIELD, "vonage needs the API secret for this call")
    return account.api_key, account.api_secret


def basic_auth_headers(credential: ProviderCredential) -> dict[str, str]:
    """The `Authorization` header for an account API call (Voice calls use a JWT instead)."""
    return {"Authorization": basic_authorization(*basic_pair(credential))}
