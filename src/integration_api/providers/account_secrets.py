"""Takes a telephony account's secret out of a credential, and builds HTTP Basic values.

Telephony providers authenticate REST calls with a pair (account SID and token, auth id and
token, API key and token), so each provider's `account.py` asks for its own secret class here
and turns the pair into an `Authorization` value.
"""

from __future__ import annotations

import base64
from typing import TypeVar

from integration_api.credentials.model import AccountSecret, ProviderCredential
from integration_api.errors import InvalidArgument
from integration_api.providers.key_material import SECRET_FIELD

AccountT = TypeVar("AccountT", bound=AccountSecret)


def account_secret_of(credential: ProviderCredential, account_class: type[AccountT]) -> AccountT:
    """The credential's secret when it is an `account_class`, else `InvalidArgument`."""
    secret = credential.secret
    if not isinstance(secret, account_class):
        raise InvalidArgument.for_field(
            SECRET_FIELD, f"{credential.provider} needs a {account_class.kind} secret"
        )
    return secret


def basic_authorization(user: str, password: str) -> str:
    """The `Authorization` header value for HTTP Basic with this user and password."""
    pair = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")
