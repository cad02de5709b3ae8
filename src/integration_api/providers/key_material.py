"""Takes the secret a provider needs out of a credential, or says which field is wrong."""

from __future__ import annotations

from integration_api.credentials.model import (
    SECRET_FIELD as SECRET_FIELD,
)
from integration_api.credentials.model import (
    ApiKey,
    AwsKeys,
    AzureKey,
    GcpServiceAccount,
    ProviderCredential,
)
from integration_api.errors import InvalidArgument


def api_key_of(credential: ProviderCredential, *, optional: bool = False) -> str:
    """The API key of an `api_key` or `azure` secret ('' only when `optional`)."""
    secret = credential.secret
    if isinstance(secret, ApiKey):
        key = secret.key
    elif isinstance(secret, AzureKey):
        key = secret.api_key
    else:
        raise InvalidArgument.for_field(SECRET_FIELD, f"{credential.provider} needs an API key")
    if not key and not optional:
        raise InvalidArgument.for_field(SECRET_FIELD, "the API key is empty")
    return key


def aws_keys_of(credential: ProviderCredential) -> AwsKeys:
    """The AWS access key pair of an `aws` secret."""
    secret = credential.secret
    if not isinstance(secret, AwsKeys):
        raise InvalidArgument.for_field(SECRET_FIELD, f"{credential.provider} needs AWS keys")
    return secret


def service_account_of(credential: ProviderCredential) -> GcpServiceAccount:
    """The Google service-account key of a `gcp_service_account` secret."""
    secret = credential.secret
    if not isinstance(secret, GcpServiceAccount):
        raise InvalidArgument.for_field(
            SECRET_FIELD, f"{credential.provider} needs a service-account key"
        )
    return secret
