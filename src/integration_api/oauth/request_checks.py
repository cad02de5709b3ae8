"""Checks of a StartAuthorization request before anything is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

from integration_api.errors import InvalidArgument

MAX_SCOPES = 50
MAX_SCOPE_LENGTH = 256
MAX_NAME_LENGTH = 200
# RFC 6749 §3.3 scope-token characters: printable ASCII except space, `"` and `\`.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


@dataclass(frozen=True)
class StartRequest:
    provider: str
    scopes: tuple[str, ...]
    connection_name: str
    redirect_after: str
    # The end user starting the flow (from the platform's session); '' for the token's user.
    user_id: str = ""


def check_start_request(request: StartRequest) -> None:
    if not request.scopes:
        raise InvalidArgument.for_field("scopes", "at least one scope is required")
    if len(request.scopes) > MAX_SCOPES:
        raise InvalidArgument.for_field("scopes", f"at most {MAX_SCOPES} scopes")
    for scope in request.scopes:
        if len(scope) > MAX_SCOPE_LENGTH or not _SCOPE_TOKEN.match(scope):
            raise InvalidArgument.for_field("scopes", "each scope is one RFC 6749 scope token")
    name = request.connection_name
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidArgument.for_field(
            "connection_name", f"1 to {MAX_NAME_LENGTH} printable characters"
        )


def check_scopes_allowed(scopes: tuple[str, ...], allowed: tuple[str, ...], provider: str) -> None:
    """Only scopes the operator listed for `provider` may be requested (least privilege)."""
    refused = sorted(set(scopes) - set(allowed))
    if refused:
        raise InvalidArgument.for_field(
            "scopes",
            f"{', '.join(refused[:5])} not allowed for {provider} "
            f"(OAUTH_{provider.upper()}_SCOPES_ALLOW)",
        )
