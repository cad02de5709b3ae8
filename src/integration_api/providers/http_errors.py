"""Turns a provider's HTTP error response into one typed error.

| provider status         | error                                                        |
| ----------------------- | ------------------------------------------------------------ |
| 401, 403, 498           | FailedPrecondition(reason="CREDENTIAL_REJECTED")             |
| 404                     | NotFound (`naming_the_model` words it for a model call)      |
| 400, 422                | InvalidArgument                                              |
| 429                     | ResourceExhausted (retry delay from the response)            |
| 408, 409, 499, 5xx, 529 | Unavailable (retryable)                                      |
| anything else           | FailedPrecondition(reason="PROVIDER_REJECTED_REQUEST")       |

Provider bodies differ (`{"error":{"message"}}`, `{"error":"…"}`, `{"detail":…}`, `{"message"}`,
`{"err_msg"}`, RFC 7807, OAuth `error_description`); `provider_error_message` reads them all. A
provider module can claim a response first with an `ErrorClassifier` (Gemini reports a bad key
as 400). Every message is sanitized: provider text may echo the key that was sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from integration_api.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.sanitize import sanitize_message

# The kinds stay importable from here: provider modules classify their answers with them.
from integration_api.upstream.error_kinds import (
    CREDENTIAL_REJECTED as CREDENTIAL_REJECTED,
)
from integration_api.upstream.error_kinds import (
    MODEL_NOT_FOUND as MODEL_NOT_FOUND,
)
from integration_api.upstream.error_kinds import (
    NO_SUCH_RESOURCE,
)
from integration_api.upstream.error_kinds import (
    PROVIDER_HTTP_STATUS as PROVIDER_HTTP_STATUS,
)
from integration_api.upstream.error_kinds import (
    PROVIDER_REJECTED_REQUEST as PROVIDER_REJECTED_REQUEST,
)
from integration_api.upstream.error_kinds import (
    QUOTA_EXHAUSTED as QUOTA_EXHAUSTED,
)
from integration_api.upstream.error_kinds import (
    naming_the_model as naming_the_model,
)

_CREDENTIAL_STATUSES = frozenset({401, 403, 498})
_INVALID_REQUEST_STATUSES = frozenset({400, 422})
_UNAVAILABLE_STATUSES = frozenset({408, 409, 499, 529})
# Rate-limit answers that waiting will not fix (spent quota, enforced spend limit).
_QUOTA_ERROR_TYPES = frozenset({"insufficient_quota", "enforced_spend_limit_reached"})
# What an unquoted upstream's error type may be: a code, not a sentence.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_GOOGLE_DURATION = re.compile(r"(\d+(?:\.\d+)?)s")


@dataclass(frozen=True)
class ErrorResponse:
    """A provider's non-2xx answer: status, headers and the body parsed as JSON when it is."""

    provider: str
    status_code: int
    headers: Mapping[str, str]
    body: object
    secrets: tuple[str, ...] = field(default=(), repr=False)
    # False for an answer from a host that is not the provider's own: its text is not repeated.
    quote_upstream: bool = True

    def message(self) -> str:
        """The provider's own explanation, sanitized ('' when it gave none or is not quoted)."""
        if not self.quote_upstream:
            return ""
        return sanitize_message(provider_error_message(self.body), self.secrets)

    def error_type(self) -> str:
        """The provider's machine-readable error code, sanitized ('' when it gave none)."""
        return sanitize_message(provider_error_type(self.body, self.headers), self.secrets)[:80]


ErrorClassifier = Callable[[ErrorResponse], ServiceError | None]


def parse_body(content: bytes, *, refuse: bool = False) -> object:
    """The body as JSON, or None when it is empty or not JSON (an HTML error page, say).

    Raises:
        ValueError: with `refuse`, for a body that is not JSON (`RefusedNumber` for one
            holding a number no answer may carry) instead of None.
    """
    if not content.strip():
        return None
    try:
        return loads_answer(content)
    except ValueError:
        if refuse:
            raise
        return None


def error_from_response(
    response: ErrorResponse, classify: ErrorClassifier | None = None
) -> ServiceError:
    """The typed error for a provider's error response (see the table in the module docstring)."""
    error = classify(response) if classify is not None else None
    if error is None:
        error = _error_for_status(response)
    error.metadata.setdefault(PROVIDER_HTTP_STATUS, str(response.status_code))
    error_type = response.error_type()
    if not response.quote_upstream and not _ERROR_CODE.fullmatch(error_type):
        error_type = ""
    if error_type:
        error.metadata.setdefault("provider_error_type", error_type)
    return error


def describe(response: ErrorResponse, what: str) -> str:
    """`"{provider} {what} (HTTP {status}): {sanitized provider message}"`."""
    message = response.message()
    prefix = f"{response.provider} {what} (HTTP {response.status_code})"
    return f"{prefix}: {message}" if message else prefix


def credential_rejected(response: ErrorResponse) -> FailedPrecondition:
    """The error for a provider refusing the key itself (bad, revoked or expired)."""
    return FailedPrecondition(
        describe(response, "rejected the credential"),
        reason=CREDENTIAL_REJECTED,
        provider=response.provider,
    )


def _error_for_status(response: ErrorResponse) -> ServiceError:
    status, provider = response.status_code, response.provider
    if status in _CREDENTIAL_STATUSES:
        return credential_rejected(response)
    if status == 404:
        return NotFound(describe(response, NO_SUCH_RESOURCE), provider=provider)
    if status in _INVALID_REQUEST_STATUSES:
        return InvalidArgument(describe(response, "rejected the request"), provider=provider)
    if status == 429:
        return _rate_limited(response)
    if status >= 500 or status in _UNAVAILABLE_STATUSES:
        return Unavailable(describe(response, "is unavailable"), provider=provider)
    text = describe(response, "refused the request")
    return FailedPrecondition(text, reason=PROVIDER_REJECTED_REQUEST, provider=provider)


def _rate_limited(response: ErrorResponse) -> ResourceExhausted:
    if response.error_type() in _QUOTA_ERROR_TYPES:
        error = ResourceExhausted(
            describe(response, "reports the quota is exhausted"),
            reason=QUOTA_EXHAUSTED,
            provider=response.provider,
        )
        error.retryable = False
        return error
    return ResourceExhausted(
        describe(response, "is rate limiting requests"),
        retry_after_seconds=retry_after_seconds(response.headers, response.body),
        provider=response.provider,
    )


def retry_after_seconds(headers: Mapping[str, str], body: object = None) -> float | None:
    """How long the provider asks us to wait: `retry-after-ms`, `retry-after`, Google RetryInfo."""
    milliseconds = _as_float(headers.get("retry-after-ms"))
    if milliseconds is not None and milliseconds >= 0:
        return milliseconds / 1000
    retry_after = headers.get("retry-after")
    if retry_after:
        seconds = _as_float(retry_after)
        if seconds is None:
            seconds = _seconds_until_http_date(retry_after)
        if seconds is not None and seconds >= 0:
            return seconds
    return _google_retry_delay(body)


def _as_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _seconds_until_http_date(value: str) -> float | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _google_retry_delay(body: object) -> float | None:
    for detail in _google_details(body):
        delay = detail.get("retryDelay")
        if isinstance(delay, str) and (match := _GOOGLE_DURATION.fullmatch(delay.strip())):
            return float(match.group(1))
    return None


def _google_details(body: object) -> list[dict[str, object]]:
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    if not isinstance(details, list):
        return []
    return [detail for detail in details if isinstance(detail, dict)]


def google_error_reasons(body: object) -> set[str]:
    """The `ErrorInfo.reason` values of a Google RPC error body (`API_KEY_INVALID`, ...)."""
    return {str(detail["reason"]) for detail in _google_details(body) if "reason" in detail}


def provider_error_message(body: object) -> str:
    """The human-readable message of any provider's error body (raw: sanitize before use)."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if isinstance(body, str):
        return body
    if not isinstance(body, dict):
        return ""
    error, description = body.get("error"), body.get("error_description")
    if isinstance(error, str) and isinstance(description, str):
        return f"{error}: {description}"
    for name in ("error", "detail", "message", "err_msg", "error_description", "title"):
        text = _text_of(body.get(name))
        if text:
            return text
    return ""


def _text_of(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for name in ("message", "detail", "err_msg"):
            nested = value.get(name)
            if isinstance(nested, str) and nested:
                return nested
            if isinstance(nested, (dict, list)) and nested:
                return json.dumps(nested)[:500]
    if isinstance(value, list) and value:
        return json.dumps(value)[:500]
    return ""


def provider_error_type(body: object, headers: Mapping[str, str]) -> str:
    """The provider's error code: `error.type`/`code`/`status`, Bedrock's header, and the like."""
    amazon_type = headers.get("x-amzn-errortype")
    if amazon_type:
        return amazon_type.split(":", 1)[0]
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        nested = error.get("type") or error.get("code") or error.get("status")
        if isinstance(nested, (str, int)):
            return str(nested)
    detail = body.get("detail")
    if isinstance(detail, dict) and isinstance(detail.get("status"), str):
        return str(detail["status"])
    for name in ("err_code", "__type", "code", "type"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return value
    return error if isinstance(error, str) and body.get("error_description") else ""
