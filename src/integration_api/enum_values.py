"""How a request's enum field that maps to nothing is described, alike for every field.

Proto3 enums are open: a caller built against a newer contract may send a number this service
does not know. That is not a missing value, and the answer says so.
"""

from __future__ import annotations

UNSPECIFIED = 0
UNKNOWN_ENUM_VALUE = "is not a known value"


def enum_problem(value: int) -> str:
    """What is wrong with an enum field that maps to nothing: unset, or a number not known here."""
    return "is required" if int(value) == UNSPECIFIED else UNKNOWN_ENUM_VALUE
