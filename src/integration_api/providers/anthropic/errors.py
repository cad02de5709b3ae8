"""Anthropic's errors: those it answers instead of a stream, and those it sends inside one.

Its error body is `{"type":"error","error":{"type":…,"message":…},"request_id":…}`. Before the
stream, the HTTP status decides (`http_errors`: 401 rejects the key, 429 and 529 are retried),
except for what the status does not say:

| answer                                               | error                                 |
| ---------------------------------------------------- | ------------------------------------- |
| 429 with `error.details.error_code`                  | ResourceExhausted, QUOTA_EXHAUSTED,   |
| `enforced_spend_limit_reached`                       | not retried (waiting will not help)   |
| 413 `request_too_large`                              | InvalidArgument                       |

Inside a 200 stream, `event: error` ends the call with `PROVIDER_STREAM_ERROR`, its status
from `error.type`: `overloaded_error`, `api_error`, `timeout_error` and unknown types are
UNAVAILABLE (retryable), `rate_limit_error` RESOURCE_EXHAUSTED, `invalid_request_error` and
`request_too_large` INVALID_ARGUMENT, `authentication_error`, `permission_error` and
`billing_error` FAILED_PRECONDITION, `not_found_error` NOT_FOUND.

See: https://docs.claude.com/en/api/errors,
https://docs.claude.com/en/api/messages-streaming#error-events.
"""

from __future__ import annotations

from collections.abc import Sequence

from integration_api.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.http_errors import (
    QUOTA_EXHAUSTED,
    ErrorResponse,
    describe,
    provider_error_message,
    provider_error_type,
)
from integration_api.providers.sanitize import sanitize_message
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

SPEND_LIMIT_REACHED = "enforced_spend_limit_reached"

_STREAM_ERRORS: dict[str, type[ServiceError]] = {
    "overloaded_error": Unavailable,
    "api_error": Unavailable,
    "timeout_error": Unavailable,
    "rate_limit_error": ResourceExhausted,
    "invalid_request_error": InvalidArgument,
    "request_too_large": InvalidArgument,
    "authentication_error": FailedPrecondition,
    "permission_error": FailedPrecondition,
    "billing_error": FailedPrecondition,
    "not_found_error": NotFound,
}


def classify_error(response: ErrorResponse) -> ServiceError | None:
    """What Anthropic's status alone does not tell; None leaves the answer to `http_errors`."""
    if response.status_code == 429 and _error_code(response.body) == SPEND_LIMIT_REACHED:
        error = ResourceExhausted(
            describe(response, "reports the spend limit is reached"),
            reason=QUOTA_EXHAUSTED,
            provider=response.provider,
        )
        error.retryable = False
        return error
    if response.status_code == 413:
        return InvalidArgument(
            describe(response, "refused a request this large"), provider=response.provider
        )
    return None


def _error_code(body: object) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ""
    details = error.get("details")
    code = details.get("error_code") if isinstance(details, dict) else None
    # The code has also been seen as the error type itself.
    return code if isinstance(code, str) else str(error.get("type", ""))


def stream_error(provider: str, data: str, secrets: Sequence[str]) -> ServiceError:
    """The typed error an `event: error` carries (its data JSON, or plain text)."""
    try:
        payload: object = loads_answer(data)
    except ValueError:
        payload = {"error": data}
    message = sanitize_message(provider_error_message(payload), secrets)
    error_type = sanitize_message(provider_error_type(payload, {}), secrets)[:80]
    text = f"{provider} reported an error in the stream"
    text = f"{text}: {message}" if message else text
    kind = _STREAM_ERRORS.get(error_type, Unavailable)
    error = kind(text, reason=PROVIDER_STREAM_ERROR, provider=provider)
    if error_type:
        error.metadata["provider_error_type"] = error_type
    return error
