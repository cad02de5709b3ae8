"""Bedrock's errors: those it answers instead of a stream, and those it sends inside one.

Before the stream the HTTP status decides (`http_errors`), the code in `x-amzn-ErrorType`
telling what the status does not:

| answer                                   | error                                                |
| ---------------------------------------- | ---------------------------------------------------- |
| 403 `AccessDeniedException`              | FailedPrecondition, PROVIDER_REJECTED_REQUEST: the   |
|                                          | keys are genuine, not allowed this model or action   |
| 400 `ServiceQuotaExceededException`      | ResourceExhausted, QUOTA_EXHAUSTED, not retried      |
| 424 `ModelErrorException`                | Unavailable (the model failed; retryable)            |

Inside a 200 stream, an exception frame ends the call with `PROVIDER_STREAM_ERROR`, its status
from `:exception-type`: `throttlingException` RESOURCE_EXHAUSTED, `validationException`
INVALID_ARGUMENT, `modelStreamErrorException`, `internalServerException`,
`serviceUnavailableException` and unknown types UNAVAILABLE (retryable, so one that arrives
before the first event is retried). An unmodeled `error` frame is UNAVAILABLE too.

See: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html.
"""

from __future__ import annotations

from collections.abc import Sequence

from integration_api.errors import (
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.aws.eventstream import Frame
from integration_api.providers.http_errors import (
    PROVIDER_REJECTED_REQUEST,
    QUOTA_EXHAUSTED,
    ErrorResponse,
    describe,
    provider_error_message,
)
from integration_api.providers.sanitize import sanitize_message
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

_STREAM_EXCEPTIONS: dict[str, type[ServiceError]] = {
    "throttlingException": ResourceExhausted,
    "validationException": InvalidArgument,
    "modelStreamErrorException": Unavailable,
    "internalServerException": Unavailable,
    "serviceUnavailableException": Unavailable,
}


def classify_error(response: ErrorResponse) -> ServiceError | None:
    """What Bedrock's status alone does not tell; None leaves the answer to `http_errors`."""
    code = response.error_type()
    if code == "AccessDeniedException":
        return FailedPrecondition(
            describe(response, "denied these keys this model or action"),
            reason=PROVIDER_REJECTED_REQUEST,
            provider=response.provider,
        )
    if code == "ServiceQuotaExceededException":
        error = ResourceExhausted(
            describe(response, "reports a service quota is exceeded"),
            reason=QUOTA_EXHAUSTED,
            provider=response.provider,
        )
        error.retryable = False
        return error
    if response.status_code == 424:
        return Unavailable(
            describe(response, "reports the model failed"), provider=response.provider
        )
    return None


def stream_error(provider: str, frame: Frame, secrets: Sequence[str]) -> ServiceError:
    """The typed error an exception or error frame carries."""
    if frame.message_type == "exception":
        try:
            payload: object = loads_answer(frame.payload)
        except ValueError:
            payload = None
        raw_message = provider_error_message(payload)
    else:
        raw_message = frame.error_message
    message = sanitize_message(raw_message, secrets)
    error_type = sanitize_message(frame.name, secrets)[:80]
    text = f"{provider} reported an error in the stream"
    text = f"{text}: {message}" if message else text
    kind = _STREAM_EXCEPTIONS.get(error_type, Unavailable)
    error = kind(text, reason=PROVIDER_STREAM_ERROR, provider=provider)
    if error_type:
        error.metadata["provider_error_type"] = error_type
    return error
