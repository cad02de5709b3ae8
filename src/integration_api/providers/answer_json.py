"""Provider answers read as JSON, without the numbers no answer may carry.

Python's `json` reads `NaN`, `Infinity` and `-Infinity` (which are not JSON), turns `1e400`
into infinity and a 400-digit number into a 400-digit int: none of them fits any field of a
response, and the 400-digit int cannot even become a float. They are refused where an answer
is parsed, as a `ValueError` like any other text that is not JSON, so every reader reports the
answer the way it already reports one that is not JSON (`PROVIDER_BAD_RESPONSE`). Numbers that
are finite but too large for their field are the response bounds' to refuse
(`providers.answer_bounds`).
"""

from __future__ import annotations

import json
import math


class RefusedNumber(ValueError):
    """JSON holding `NaN`, `Infinity` or a number too large for any response field."""


# The digits of the largest 64-bit value (2**64 - 1), the widest integer any response holds.
MAX_INTEGER_DIGITS = 20


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise RefusedNumber("an integer wider than 64 bits")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise RefusedNumber("a number beyond the range of a double")
    return value


def _constant(name: str) -> object:
    raise RefusedNumber(f"{name} is not a JSON value")


def loads_answer(document: str | bytes | bytearray) -> object:
    """`document` parsed as JSON, refusing `NaN`, `Infinity`, overflowing and overlong numbers.

    Raises:
        RefusedNumber: the document holds one of the refused numbers.
        ValueError: the document is not JSON.
    """
    return json.loads(document, parse_int=_integer, parse_float=_number, parse_constant=_constant)
