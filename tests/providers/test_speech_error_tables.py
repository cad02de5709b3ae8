"""Every speech provider's documented error kinds, each to one status: an error that says the
request itself is wrong is INVALID_ARGUMENT or FAILED_PRECONDITION, never a retryable
UNAVAILABLE; spent credit is never a rejected key."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from integration_api.errors import ServiceError
from integration_api.providers.assemblyai.errors import session_error
from integration_api.providers.cartesia.errors import socket_error as cartesia_error
from integration_api.providers.cartesia.errors import text_error
from integration_api.providers.deepgram.errors import stream_error as deepgram_error
from integration_api.providers.deepgram.listen import close_error
from integration_api.providers.elevenlabs.errors import socket_error as elevenlabs_error
from integration_api.providers.openai.chat_stream import stream_error as openai_error
from integration_api.providers.websocket import Closed, ProviderSocket

Code = grpc.StatusCode
KEY = "sk-key-0123456789abcdef"


def _expect(error: ServiceError, code: grpc.StatusCode, reason: str | None) -> None:
    assert error.code == code
    if reason is not None:
        assert error.reason == reason
    if code in (Code.INVALID_ARGUMENT, Code.FAILED_PRECONDITION, Code.PERMISSION_DENIED):
        assert not error.retryable
    assert KEY not in error.message


@pytest.mark.parametrize(
    ("kind", "code", "reason"),
    [
        ("invalid_request", Code.INVALID_ARGUMENT, None),
        ("invalid_input_message", Code.INVALID_ARGUMENT, None),
        ("input_error", Code.INVALID_ARGUMENT, None),
        ("chunk_size_exceeded", Code.INVALID_ARGUMENT, None),
        ("insufficient_audio_activity", Code.INVALID_ARGUMENT, None),
        ("max_character_limit_exceeded", Code.INVALID_ARGUMENT, None),
        ("voice_not_found", Code.INVALID_ARGUMENT, None),
        ("model_not_found", Code.INVALID_ARGUMENT, None),
        ("unsupported_output_format", Code.INVALID_ARGUMENT, None),
        ("quota_exceeded", Code.RESOURCE_EXHAUSTED, "QUOTA_EXHAUSTED"),
        ("missing_permissions", Code.PERMISSION_DENIED, "PROVIDER_PERMISSION_MISSING"),
        ("unaccepted_terms_error", Code.PERMISSION_DENIED, "PROVIDER_PERMISSION_MISSING"),
        ("invalid_api_key", Code.FAILED_PRECONDITION, "CREDENTIAL_REJECTED"),
        ("auth_error", Code.FAILED_PRECONDITION, "CREDENTIAL_REJECTED"),
        ("rate_limited", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        ("max_active_conversations", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        ("commit_throttled", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        ("queue_overflow", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        ("resource_exhausted", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        ("input_timeout_exceeded", Code.DEADLINE_EXCEEDED, None),
        ("session_time_limit_exceeded", Code.DEADLINE_EXCEEDED, None),
        ("transcriber_error", Code.UNAVAILABLE, "PROVIDER_STREAM_ERROR"),
        ("error", Code.UNAVAILABLE, "PROVIDER_STREAM_ERROR"),
    ],
)
def test_elevenlabs_error_kinds(kind: str, code: grpc.StatusCode, reason: str | None) -> None:
    error = elevenlabs_error(kind, "said something")
    _expect(error, code, reason)
    assert error.metadata["provider_error_type"] == kind


@pytest.mark.parametrize(
    ("error_code", "code", "reason"),
    [
        ("INVALID_QUERY_PARAMETER", Code.INVALID_ARGUMENT, None),
        ("KEYWORD_LIMIT_EXCEEDED", Code.INVALID_ARGUMENT, None),
        ("V2_MODEL_ON_V1_LISTEN_ENDPOINT", Code.INVALID_ARGUMENT, None),
        ("UNSUPPORTED_ENCODING", Code.INVALID_ARGUMENT, None),
        ("DATA-0000", Code.INVALID_ARGUMENT, None),
        ("INVALID_AUTH", Code.FAILED_PRECONDITION, "CREDENTIAL_REJECTED"),
        ("INSUFFICIENT_PERMISSIONS", Code.PERMISSION_DENIED, None),
        ("PAYMENT_REQUIRED", Code.RESOURCE_EXHAUSTED, "QUOTA_EXHAUSTED"),
        ("RATE_LIMITED", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        ("NET-0000", Code.UNAVAILABLE, "PROVIDER_STREAM_ERROR"),
    ],
)
def test_deepgram_error_messages(
    error_code: str, code: grpc.StatusCode, reason: str | None
) -> None:
    _expect(deepgram_error(error_code, "deepgram reported an error"), code, reason)


@pytest.mark.parametrize(
    ("closed", "code", "error_type"),
    [
        (Closed(1008, "DATA-0000", "DATA-0000"), Code.INVALID_ARGUMENT, "DATA-0000"),
        (Closed(1002, "DATA-0000", "DATA-0000"), Code.INVALID_ARGUMENT, "DATA-0000"),
        (Closed(1011, "NET-0000", "NET-0000"), Code.UNAVAILABLE, "NET-0000"),
        (Closed(1011, "NET-0001", "NET-0001"), Code.UNAVAILABLE, "NET-0001"),
        (Closed(1006), Code.UNAVAILABLE, None),
    ],
)
def test_deepgram_close_codes(
    closed: Closed, code: grpc.StatusCode, error_type: str | None
) -> None:
    error = close_error(closed)
    assert error.code == code
    assert error.metadata.get("provider_error_type") == error_type
    assert error.metadata["provider_close_code"] == str(closed.code)


@pytest.mark.parametrize(
    ("error_code", "text", "code", "reason"),
    [
        (3006, "Invalid Message Type", Code.INVALID_ARGUMENT, "PROVIDER_REJECTED_REQUEST"),
        (3007, "Input Duration Violation", Code.INVALID_ARGUMENT, "PROVIDER_REJECTED_REQUEST"),
        (4000, "Sample rate must be a positive integer", Code.INVALID_ARGUMENT, None),
        (4101, "Bad schema", Code.INVALID_ARGUMENT, None),
        (4001, "Not Authorized", Code.FAILED_PRECONDITION, "CREDENTIAL_REJECTED"),
        (4002, "Insufficient Funds", Code.RESOURCE_EXHAUSTED, "QUOTA_EXHAUSTED"),
        (4003, "Free tier user", Code.FAILED_PRECONDITION, "PROVIDER_REJECTED_REQUEST"),
        (
            1008,
            "Unauthorized Connection: Too many concurrent sessions",
            Code.RESOURCE_EXHAUSTED,
            "RATE_LIMITED",
        ),
        (1008, "Unauthorized Connection: account", Code.FAILED_PRECONDITION, None),
        (3009, "Too many concurrent sessions", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        (4029, "Client sent audio too fast", Code.RESOURCE_EXHAUSTED, "RATE_LIMITED"),
        (3008, "Session Expired", Code.DEADLINE_EXCEEDED, None),
        (3005, "Session Cancelled", Code.UNAVAILABLE, "PROVIDER_STREAM_ERROR"),
        (1013, "Try again later", Code.UNAVAILABLE, "PROVIDER_STREAM_ERROR"),
    ],
)
def test_assemblyai_error_codes(
    error_code: int, text: str, code: grpc.StatusCode, reason: str | None
) -> None:
    error = session_error(error_code, f"assemblyai reported an error: {text}", text)
    _expect(error, code, reason)
    assert error.metadata["provider_error_type"] == str(error_code)


def _cartesia_socket() -> ProviderSocket:
    return ProviderSocket("cartesia", True, (KEY,), None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("payload", "code", "reason"),
    [
        ({"status_code": 400, "error_code": "invalid_request"}, Code.INVALID_ARGUMENT, None),
        ({"status_code": 422, "error_code": "invalid_voice"}, Code.INVALID_ARGUMENT, None),
        ({"status_code": 404, "error_code": "voice_not_found"}, Code.NOT_FOUND, None),
        (
            {"status_code": 401, "error_code": "invalid_api_key"},
            Code.FAILED_PRECONDITION,
            "CREDENTIAL_REJECTED",
        ),
        (
            {"status_code": 402, "error_code": "quota_exceeded"},
            Code.RESOURCE_EXHAUSTED,
            "QUOTA_EXHAUSTED",
        ),
        (
            {"status_code": 429, "error_code": "concurrency_limited"},
            Code.RESOURCE_EXHAUSTED,
            "RATE_LIMITED",
        ),
        ({"status_code": 500, "error_code": "internal_error"}, Code.UNAVAILABLE, None),
    ],
)
def test_cartesia_error_frames(
    payload: dict[str, Any], code: grpc.StatusCode, reason: str | None
) -> None:
    frame = {"type": "error", "done": True, "message": f"about {KEY}", **payload}
    _expect(cartesia_error(_cartesia_socket(), frame), code, reason)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Bad Request: unknown model sonic-9", Code.INVALID_ARGUMENT),
        ("Not Found: no such voice", Code.NOT_FOUND),
        ("Too Many Requests: slow down", Code.RESOURCE_EXHAUSTED),
        ("Internal Server Error: oops", Code.UNAVAILABLE),
        ("something went wrong", Code.UNAVAILABLE),
    ],
)
def test_cartesia_plain_text_errors(text: str, code: grpc.StatusCode) -> None:
    assert text_error(_cartesia_socket(), text).code == code


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        ("invalid_request_error", Code.INVALID_ARGUMENT),
        ("server_error", Code.UNAVAILABLE),
    ],
)
def test_openai_transcription_stream_errors(error_type: str, code: grpc.StatusCode) -> None:
    payload = {"type": "error", "error": {"type": error_type, "message": f"bad {KEY}"}}
    _expect(openai_error("openai", payload, (KEY,)), code, None)
