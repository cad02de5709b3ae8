"""The identity claims of a service token, used exactly as given or refused.

An organization or project id decides which rows a caller reaches, so it is never tidied up:
`"o\\u00a0"` is not `"o"`, and the number `1` is not the string `"1"`. Ids must be strings,
non-empty, bounded, without surrounding whitespace and without control or formatting
characters (which would also reach logs and the audit chain). The acting user's id only labels
audit events: the platform may mint it as a number, so whole numbers are taken as their text.
"""

from __future__ import annotations

import unicodedata

from integration_api.errors import Unauthenticated

MAX_ID_LENGTH = 256


def tenant_id(claims: dict[str, object], name: str) -> str:
    """The organization or project id named `name`; Unauthenticated with a plain reason."""
    value = claims.get(name)
    if value is None or value == "":
        raise Unauthenticated("token lacks organizationId and projectId")
    if not isinstance(value, str):
        raise Unauthenticated(f"token {name} must be a string")
    return _checked(value, name)


def actor_id(claims: dict[str, object], name: str) -> str:
    """The optional `userId` or `sub`: a string or a whole number, "" when absent."""
    value = claims.get(name)
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise Unauthenticated(f"token {name} must be a string or a whole number")
    return _checked(value, name)


def _checked(value: str, name: str) -> str:
    if len(value) > MAX_ID_LENGTH:
        raise Unauthenticated(f"token {name} is longer than {MAX_ID_LENGTH} characters")
    if value != value.strip():
        raise Unauthenticated(f"token {name} has surrounding whitespace")
    if any(_unprintable(character) for character in value):
        raise Unauthenticated(f"token {name} contains control characters")
    return value


def _unprintable(character: str) -> bool:
    # Cc control, Cf format (zero-width, bidi overrides), Cs/Co/Cn; Zl/Zp break log lines.
    category = unicodedata.category(character)
    return category[0] == "C" or category in ("Zl", "Zp")
