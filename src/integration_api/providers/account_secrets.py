"""Takes a telephony account's secret out of a credential, and builds HTTP Basic values.

Telephony providers authenticate REST calls with a pair (account SID and token, auth id and
token, API key and token), so each provider's `account.py` asks for its own secret class here
and turns the pair into an `Authorization` value.
"""

from __future__ import annotations

import base64
import re
from typing import TypeVar

from integration_api.credentials.model import AccountSecret, ProviderCredential
from integration_api.errors import FieldViolation, InvalidArgument
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


def field_path(secret: AccountSecret, name: str) -> str:
    """The request path of one field of an account secret (`secret.twilio.auth_token`)."""
    return f"{SECRET_FIELD}.{secret.kind}.{name}"


def missing_fields(secret: AccountSecret, *names: str) -> list[FieldViolation]:
    """A violation for each of `names` that is empty."""
    return [
        FieldViolation(field_path(secret, name), "is required")
        for name in names
        if not str(getattr(secret, name)).strip()
    ]


def misshapen_field(
    secret: AccountSecret, name: str, shape: re.Pattern[str], description: str
) -> list[FieldViolation]:
    """A violation when the non-empty field `name` does not fully match `shape`.

    Identifiers go into URL paths (`/Accounts/{sid}`): a strict shape keeps a stored value from
    ever steering a request to another resource (`../`, `?`, `#`).
    """
    value = str(getattr(secret, name))
    if value and not shape.fullmatch(value):
        return [FieldViolation(field_path(secret, name), description)]
    return []
