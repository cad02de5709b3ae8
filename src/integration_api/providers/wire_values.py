"""Values every provider's answer carries and no provider may be trusted with: ids and counts.

An id from an upstream (a request id header, a response or tool-call id) reaches the caller and
the logs, so it is cut to a bounded length of printable characters; a token count is a
non-negative whole number or "not reported", never a bool, a float or a negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

MAX_ID_LENGTH = 128


def printable_id(value: object) -> str:
    """`value` as an id fit to pass on: printable, at most `MAX_ID_LENGTH` characters ('' when
    it is not a string)."""
    if not isinstance(value, str):
        return ""
    return "".join(character for character in value[:MAX_ID_LENGTH] if character.isprintable())


def request_id_from(headers: Mapping[str, str], names: Iterable[str]) -> str:
    """The first of the `names` headers that is set, as an id fit to pass on."""
    for name in names:
        value = headers.get(name)
        if value:
            return printable_id(value)
    return ""


def token_count(value: object) -> int | None:
    """A reported token count, or None when what was reported is not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
