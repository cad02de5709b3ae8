"""How long a token endpoint says a token lives (`expires_in`), checked before it is trusted.

One second to a year covers every real answer (Google's 3599 s, GitHub App tokens' 8 h, their
refresh tokens' six months). Anything else is a broken answer, not a lifetime: a negative one
would overflow into "never expires", a huge one would never be renewed, `Infinity` or a
400-digit number would not even convert. It is refused as `PROVIDER_BAD_RESPONSE`.
"""

from __future__ import annotations

import math
import re

from integration_api.errors import Unavailable
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE

MIN_LIFETIME_SECONDS = 1
MAX_LIFETIME_SECONDS = 366 * 24 * 3600
_DECIMAL_SECONDS = re.compile(r"[0-9]{1,12}")


def lifetime_seconds(provider: str, value: object) -> float | None:
    """Seconds from an `expires_in`; None when absent (or null): no expiry is known.

    Raises:
        Unavailable: `PROVIDER_BAD_RESPONSE` for anything but a number (or a string of digits)
            from `MIN_LIFETIME_SECONDS` to `MAX_LIFETIME_SECONDS`.
    """
    if value is None:
        return None
    if isinstance(value, str) and _DECIMAL_SECONDS.fullmatch(value):
        value = int(value)
    # A 400-digit integer compares fine but cannot become a float: it is range-checked first.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _out_of_range(provider)
    finite = isinstance(value, int) or math.isfinite(value)
    if not finite or not MIN_LIFETIME_SECONDS <= value <= MAX_LIFETIME_SECONDS:
        raise _out_of_range(provider)
    return float(value)


def _out_of_range(provider: str) -> Unavailable:
    return Unavailable(
        f"{provider} answered the token request with a lifetime out of range",
        reason=PROVIDER_BAD_RESPONSE,
        provider=provider,
    )
