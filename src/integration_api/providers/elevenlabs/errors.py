"""ElevenLabs errors: HTTP bodies, socket error frames, and the 401s that are not a bad key.

ElevenLabs answers 401 for spent credit (`quota_exceeded`) and for a key scoped without the
needed permission (`missing_permissions`) as well as for a bad key (`invalid_api_key`): only
the last one says the key is wrong. Socket errors are JSON frames (`{"message","error","code"}`
on the TTS socket, `{"message_type":<kind>,"error"}` on Scribe) followed by a close.

By error kind:
- RESOURCE_EXHAUSTED QUOTA_EXHAUSTED, not retryable: `quota_exceeded`.
- PERMISSION_DENIED: `missing_permissions`, `unaccepted_terms_error`, `only_for_creator+`.
- FAILED_PRECONDITION CREDENTIAL_REJECTED: `invalid_api_key`, `auth_error`.
- RESOURCE_EXHAUSTED, retryable: `rate_limited`, `too_many_concurrent_requests`, `system_busy`,
  `queue_overflow`, `resource_exhausted`, `commit_throttled`, `detected_unusual_activity`,
  `max_active_conversations`.
- INVALID_ARGUMENT (the request itself is wrong): `invalid_request`, `input_error`,
  `invalid_input_message`, `chunk_size_exceeded`, `max_character_limit_exceeded`,
  `insufficient_audio_activity`, an unknown voice or model, an unsupported format or language.
- DEADLINE_EXCEEDED: `session_time_limit_exceeded`, `input_timeout_exceeded`.
- UNAVAILABLE, retryable: `error`, `transcriber_error` and anything else.
"""

from __future__ import annotations

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.elevenlabs.verification import PROVIDER
from integration_api.providers.http_errors import (
    CREDENTIAL_REJECTED,
    QUOTA_EXHAUSTED,
    ErrorResponse,
    describe,
)

PERMISSION_MISSING = "PROVIDER_PERMISSION_MISSING"

_QUOTA = frozenset({"quota_exceeded"})
_PERMISSION = frozenset({"missing_permissions", "unaccepted_terms_error", "only_for_creator+"})
_CREDENTIAL = frozenset({"invalid_api_key", "auth_error"})
_RATE = frozenset(
    {
        "rate_limited",
        "too_many_concurrent_requests",
        "system_busy",
        "queue_overflow",
        "resource_exhausted",
        "commit_throttled",
        "detected_unusual_activity",
        # The sixth context on one socket.
        "max_active_conversations",
    }
)
# Kinds that say the request itself is wrong: sending it again cannot help.
_INPUT = frozenset(
    {
        "invalid_request",
        "input_error",
        "chunk_size_exceeded",
        "invalid_input_message",
        "max_character_limit_exceeded",
        "insufficient_audio_activity",
        "voice_not_found",
        "invalid_voice_id",
        "invalid_uid",
        "model_not_found",
        "invalid_model_id",
        "model_not_supported",
        "unsupported_model",
        "invalid_output_format",
        "unsupported_output_format",
        "unsupported_audio_format",
        "invalid_audio_format",
        "invalid_language_code",
        "unsupported_language",
    }
)
_TIME = frozenset({"session_time_limit_exceeded", "input_timeout_exceeded"})


def classify_http(response: ErrorResponse) -> ServiceError | None:
    """Claims the 401s that mean spent credit or a missing permission."""
    kind = response.error_type()
    if response.status_code != 401:
        return None
    if kind in _QUOTA:
        return quota_exhausted(describe(response, "reports the quota is exhausted"))
    if kind in _PERMISSION:
        return PermissionDenied(
            describe(response, "refused: the key lacks a permission"),
            reason=PERMISSION_MISSING,
            provider=PROVIDER,
        )
    return None


def quota_exhausted(message: str) -> ResourceExhausted:
    error = ResourceExhausted(message, reason=QUOTA_EXHAUSTED, provider=PROVIDER)
    error.retryable = False  # waiting does not add credit
    return error


def socket_error(kind: str, text: str) -> ServiceError:
    """The typed error for an error frame of kind `kind` (sanitized `text` may be '')."""
    message = f"elevenlabs reported {kind}: {text}" if text else f"elevenlabs reported {kind}"
    error: ServiceError
    if kind in _QUOTA:
        error = quota_exhausted(message)
    elif kind in _PERMISSION:
        error = PermissionDenied(message, reason=PERMISSION_MISSING, provider=PROVIDER)
    elif kind in _CREDENTIAL:
        error = FailedPrecondition(message, reason=CREDENTIAL_REJECTED, provider=PROVIDER)
    elif kind in _RATE:
        error = ResourceExhausted(message, provider=PROVIDER)
    elif kind in _INPUT:
        error = InvalidArgument(message, provider=PROVIDER)
    elif kind in _TIME:
        error = DeadlineExceeded(message, provider=PROVIDER)
    else:
        error = Unavailable(message, reason="PROVIDER_STREAM_ERROR", provider=PROVIDER)
    error.metadata["provider_error_type"] = kind
    return error
