"""AssemblyAI streaming errors: an `Error` frame, then a close with the same code.

See: https://www.assemblyai.com/docs/streaming/common-session-errors-and-closures.
The current codes are 3005-3009; older accounts see 1008 (too many sessions, account
problems), and the SDK still knows the v2-era 4000-4103 and 1013. A close with one of these
codes and no frame before it means the same. A refused upgrade goes through the HTTP table.

- INVALID_ARGUMENT: 3006 invalid message, 3007 input duration, 4000 bad sample rate,
  4032/4033 audio too short/long, 4034 audio too small, 4100 bad JSON, 4101 bad schema.
- FAILED_PRECONDITION CREDENTIAL_REJECTED: 4001 not authorized.
- RESOURCE_EXHAUSTED QUOTA_EXHAUSTED, not retryable: 4002 insufficient funds.
- FAILED_PRECONDITION PROVIDER_REJECTED_REQUEST: 4003 free-tier account, 1008 other than
  too many sessions (an account problem).
- RESOURCE_EXHAUSTED, retryable: 3009, 4029, 4102, 1008 too many concurrent sessions.
- DEADLINE_EXCEEDED: 3008, 4008, 4031 (the session ran too long).
- UNAVAILABLE, retryable: 3005, 1013 and anything else.
"""

from __future__ import annotations

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.assemblyai.verification import PROVIDER
from integration_api.providers.http_errors import (
    CREDENTIAL_REJECTED,
    PROVIDER_REJECTED_REQUEST,
    QUOTA_EXHAUSTED,
)
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

_INPUT = frozenset({3006, 3007, 4000, 4032, 4033, 4034, 4100, 4101})
_CAPACITY = frozenset({3009, 4029, 4102})
_TIME = frozenset({3008, 4008, 4031})
_SESSION_LIMIT = 1008
# Every code this table knows: a close with another code is a plain abnormal close.
KNOWN_CODES = _INPUT | _CAPACITY | _TIME | {3005, 4001, 4002, 4003, _SESSION_LIMIT}


def session_error(code: object, message: str, text: str = "") -> ServiceError:
    """The typed error for code `code`; `text` is the provider's (sanitized) words, if any."""
    error: ServiceError
    if code in _INPUT:
        error = InvalidArgument(message, reason=PROVIDER_REJECTED_REQUEST, provider=PROVIDER)
    elif code in _CAPACITY or (code == _SESSION_LIMIT and "concurrent" in text.lower()):
        error = ResourceExhausted(message, provider=PROVIDER)
    elif code in _TIME:
        error = DeadlineExceeded(message, provider=PROVIDER)
    elif code == 4001:
        error = FailedPrecondition(message, reason=CREDENTIAL_REJECTED, provider=PROVIDER)
    elif code == 4002:
        error = ResourceExhausted(message, reason=QUOTA_EXHAUSTED, provider=PROVIDER)
        error.retryable = False  # waiting does not add funds
    elif code in (4003, _SESSION_LIMIT):
        error = FailedPrecondition(message, reason=PROVIDER_REJECTED_REQUEST, provider=PROVIDER)
    else:
        error = Unavailable(message, reason=PROVIDER_STREAM_ERROR, provider=PROVIDER)
    if isinstance(code, int) and not isinstance(code, bool):
        error.metadata["provider_error_type"] = str(code)
    return error
