"""Cartesia errors on its sockets: `{"type":"error","status_code",…,"error_code",…}` frames.

See: https://docs.cartesia.ai/use-the-api/api-errors.
From `Cartesia-Version` 2026-03-01 an error is structured JSON with the HTTP status it stands
for; older versions may send plain text (`Title: Message`), which is an error too. The status
maps through the shared HTTP table, and `quota_exceeded` is spent credit, not a busy service.
"""

from __future__ import annotations

import re

from integration_api.errors import ServiceError, Unavailable
from integration_api.providers.cartesia.verification import PROVIDER
from integration_api.providers.http_errors import (
    QUOTA_EXHAUSTED,
    ErrorResponse,
    error_from_response,
)
from integration_api.providers.websocket import ProviderSocket
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR

_ERROR_CODE = re.compile(r"[a-z0-9_]{1,64}")


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
    error = error_from_response(response)
    if code == "quota_exceeded":
        error.reason = QUOTA_EXHAUSTED
        error.retryable = False
    if _ERROR_CODE.fullmatch(code):
        error.metadata["provider_error_type"] = code
    return error


def text_error(socket: ProviderSocket, text: str) -> Unavailable:
    """A frame that is not JSON: older versions' plain-text errors (`Title: Message`)."""
    quoted = socket.sanitized(text)
    message = f"cartesia reported an error: {quoted}" if quoted else "cartesia reported an error"
    return Unavailable(message, reason=PROVIDER_STREAM_ERROR, provider=PROVIDER)
