"""Provider answers read as JSON, without the numbers no answer may carry.

Python's `json` reads `NaN`, `Infinity` and `-Infinity` (which are not JSON) and a 400-digit
number as a 400-digit int, which no response field holds and which cannot even become a float
(`OverflowError` wherever an adapter tries). Both are refused where an answer is parsed, as a
`ValueError` (`RefusedNumber`) like any other text that is not JSON, so each reader reports it
as a bad provider response. A float beyond a double (`1e400`) reads as infinity and, like every
finite number too large for its field, is refused by `upstream.answer_bounds` before any
response holds it; a hook for every float would double the cost of reading an embedding.
"""

from __future__ import annotations

import json

from integration_api.errors import Unavailable
from integration_api.upstream.stream_errors import PROVIDER_BAD_RESPONSE


class RefusedNumber(ValueError):
    """JSON holding `NaN`, `Infinity` or a number too large for any response field."""


# The digits of the largest 64-bit value (2**64 - 1), the widest integer any response holds.
MAX_INTEGER_DIGITS = 20


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise RefusedNumber("an integer wider than 64 bits")
    return int(text)


def _constant(name: str) -> object:
    raise RefusedNumber(f"{name} is not a JSON value")


# One decoder for every answer: `json.loads` with hooks would build a new one per call.
_DECODER = json.JSONDecoder(parse_int=_integer, parse_constant=_constant)


def loads_answer(document: str | bytes | bytearray) -> object:
    """`document` parsed as JSON, refusing `NaN`, `Infinity` and integers wider than 64 bits.

    Raises:
        RefusedNumber: the document holds one of the refused numbers.
        ValueError: the document is not JSON.
    """
    if not isinstance(document, str):
        document = document.decode(json.detect_encoding(document), "surrogatepass")
    return _DECODER.decode(document)


def frame_json(document: str, provider: str) -> object:
    """A socket frame from `provider` as JSON, or None when it is not JSON (an unknown frame).

    Raises:
        Unavailable: `PROVIDER_BAD_RESPONSE` for JSON holding a refused number: a frame like
            that is broken, not merely unknown.
    """
    try:
        return loads_answer(document)
    except RefusedNumber:
        raise Unavailable(
            f"{provider} answered with a number out of range",
            reason=PROVIDER_BAD_RESPONSE,
            provider=provider,
        ) from None
    except ValueError:
        return None
