"""Cartesia errors on its sockets: `{"type":"error","status_code",…,"error_code",…}` frames.

See: https://docs.cartesia.ai/use-the-api/api-errors.
From `Cartesia-Version` 2026-03-01 an error is structured JSON with the HTTP status it stands
for; older versions may send plain text (`Title: Message`), which is an error too. The status
maps through the shared HTTP table (a 400 or 422 is the request's fault: INVALID_ARGUMENT,
never a retryable UNAVAILABLE), and `quota_exceeded` is spent credit, not a busy service; the
same holds for HTTP answers and a refused upgrade (`classify_http`). A plain-text error is read
by its title (`Bad Request: …`) where the title is an HTTP reason phrase.
"""

from __future__ import annotations

import re

from integration_api.errors import ResourceExhausted, ServiceError, Unavailable
from integration_api.providers.cartesia.verification import PROVIDER
from integration_api.providers.http_errors import (
    QUOTA_EXHAUSTED,
    ErrorResponse,
    describe,
    error_from_response,
)
from integration_api.providers.websocket import ProviderSocket
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")


_TITLE_STATUS = {
    "bad request": 400,
    "unauthorized": 401,
    "payment required": 402,
    "forbidden": 403,
    "not found": 404,
    "unprocessable entity": 422,
    "too many requests": 429,
}


def _error_code(body: object) -> str:
    code = body.get("error_code") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _ERROR_CODE.fullmatch(code) else ""


def classify_http(response: ErrorResponse) -> ServiceError | None:
    """Claims `quota_exceeded` (whatever its status): spent credit, not a busy service."""
    if _error_code(response.body) != "quota_exceeded":
        return None
    message = describe(response, "reports the quota is exhausted")
    error = ResourceExhausted(message, reason=QUOTA_EXHAUSTED, provider=PROVIDER)
    error.retryable = False  # waiting does not add credit
    error.metadata["provider_error_type"] = "quota_exceeded"
    return error


def socket_error(socket: ProviderSocket, payload: dict[str, object]) -> ServiceError:
    """The typed error for one error frame, its text sanitized, its code in `ErrorInfo`."""
    status = payload.get("status_code")
    code = str(payload.get("error_code") or "")
    response = ErrorResponse(
        provider=PROVIDER,
        status_code=status if isinstance(status, int) and status >= 400 else 500,
        headers={},
        body=payload,
        secrets=socket.secrets,
        quote_upstream=socket.quote_upstream,
    )
    error = error_from_response(response, classify_http)
    if _ERROR_CODE.fullmatch(code):
        error.metadata["provider_error_type"] = code
    return error


def text_error(socket: ProviderSocket, text: str) -> ServiceError:
    """A frame that is not JSON: older versions' plain-text errors (`Title: Message`)."""
    quoted = socket.sanitized(text)
    status = _TITLE_STATUS.get(text.split(":", 1)[0].strip().lower()) if ":" in text else None
    if status is not None:
        response = ErrorResponse(
            provider=PROVIDER,
            status_code=status,
            headers={},
            body=text.split(":", 1)[1].strip(),
            secrets=socket.secrets,
            quote_upstream=socket.quote_upstream,
        )
        return error_from_response(response)
    message = f"cartesia reported an error: {quoted}" if quoted else "cartesia reported an error"
    return Unavailable(message, reason=PROVIDER_STREAM_ERROR, provider=PROVIDER)
