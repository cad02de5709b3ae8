"""Deepgram's error kinds, over HTTP (and a refused upgrade) and inside a live socket.

See: https://developers.deepgram.com/docs/errors and the `ErrorResponse` of Deepgram's OpenAPI.
HTTP answers go through the shared table, except 402 `PAYMENT_REQUIRED`: spent credit that
waiting will not add. Inside a socket an error is a close code with a reason, or (newer
versions) an `Error` message; either names a code:

- INVALID_ARGUMENT: `DATA-*` (undecodable audio), `INVALID_QUERY_PARAMETER`,
  `KEYWORD_LIMIT_EXCEEDED`, `V2_MODEL_ON_V1_LISTEN_ENDPOINT`, `BAD_REQUEST`,
  `INVALID_REQUEST`, `UNSUPPORTED_*`.
- FAILED_PRECONDITION CREDENTIAL_REJECTED: `INVALID_AUTH`.
- PERMISSION_DENIED: `INSUFFICIENT_PERMISSIONS`, `FORBIDDEN`.
- RESOURCE_EXHAUSTED QUOTA_EXHAUSTED, not retryable: `PAYMENT_REQUIRED`, `INSUFFICIENT_CREDITS`.
- RESOURCE_EXHAUSTED, retryable: `RATE_LIMITED`, `TOO_MANY_REQUESTS`.
- UNAVAILABLE, retryable: `NET-*` and anything else.
"""

from __future__ import annotations

from integration_api.errors import (
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.deepgram.verification import PROVIDER
from integration_api.providers.http_errors import (
    CREDENTIAL_REJECTED,
    QUOTA_EXHAUSTED,
    ErrorResponse,
    describe,
)
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

_REQUEST = frozenset(
    {
        "INVALID_QUERY_PARAMETER",
        "KEYWORD_LIMIT_EXCEEDED",
        "V2_MODEL_ON_V1_LISTEN_ENDPOINT",
        "BAD_REQUEST",
        "INVALID_REQUEST",
    }
)
_QUOTA = frozenset({"PAYMENT_REQUIRED", "INSUFFICIENT_CREDITS"})
_RATE = frozenset({"RATE_LIMITED", "TOO_MANY_REQUESTS"})
_PERMISSION = frozenset({"INSUFFICIENT_PERMISSIONS", "FORBIDDEN"})


def classify_http(response: ErrorResponse) -> ServiceError | None:
    """Claims 402: the project is out of credit."""
    if response.status_code == 402:
        return quota_exhausted(describe(response, "reports the balance is spent"))
    return None


def quota_exhausted(message: str) -> ResourceExhausted:
    error = ResourceExhausted(message, reason=QUOTA_EXHAUSTED, provider=PROVIDER)
    error.retryable = False  # waiting does not add credit
    return error


def stream_error(code: str, message: str) -> ServiceError:
    """The typed error for an in-band error naming `code` (`message` is sanitized text)."""
    name = code.upper()
    error: ServiceError
    if name.startswith("DATA-") or name in _REQUEST or name.startswith("UNSUPPORTED_"):
        error = InvalidArgument(message, reason="PROVIDER_REJECTED_REQUEST", provider=PROVIDER)
    elif name == "INVALID_AUTH":
        error = FailedPrecondition(message, reason=CREDENTIAL_REJECTED, provider=PROVIDER)
    elif name in _PERMISSION:
        error = PermissionDenied(message, provider=PROVIDER)
    elif name in _QUOTA:
        error = quota_exhausted(message)
    elif name in _RATE:
        error = ResourceExhausted(message, provider=PROVIDER)
    else:
        error = Unavailable(message, reason=PROVIDER_STREAM_ERROR, provider=PROVIDER)
    if code:
        error.metadata["provider_error_type"] = code
    return error
