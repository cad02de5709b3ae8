"""Mapping provider error responses (status, headers, body) to typed errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from integration_api.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.providers.google.gemini import classify_google_error
from integration_api.providers.http_errors import (
    ErrorResponse,
    error_from_response,
    naming_the_model,
    provider_error_message,
    retry_after_seconds,
)


def response(
    status: int,
    body: object = None,
    headers: dict[str, str] | None = None,
    secrets: tuple[str, ...] = (),
) -> ErrorResponse:
    return ErrorResponse("acme", status, httpx.Headers(headers or {}), body, secrets)


@pytest.mark.parametrize(
    ("status", "error_class", "reason"),
    [
        (401, FailedPrecondition, "CREDENTIAL_REJECTED"),
        (403, FailedPrecondition, "CREDENTIAL_REJECTED"),
        (498, FailedPrecondition, "CREDENTIAL_REJECTED"),
        (404, NotFound, "NOT_FOUND"),
        (400, InvalidArgument, "INVALID_ARGUMENT"),
        (422, InvalidArgument, "INVALID_ARGUMENT"),
        (429, ResourceExhausted, "RATE_LIMITED"),
        (408, Unavailable, "UPSTREAM_UNAVAILABLE"),
        (500, Unavailable, "UPSTREAM_UNAVAILABLE"),
        (502, Unavailable, "UPSTREAM_UNAVAILABLE"),
        (503, Unavailable, "UPSTREAM_UNAVAILABLE"),
        (529, Unavailable, "UPSTREAM_UNAVAILABLE"),
        (402, FailedPrecondition, "PROVIDER_REJECTED_REQUEST"),
    ],
)
def test_status_maps_to_typed_error(
    status: int, error_class: type[ServiceError], reason: str
) -> None:
    error = error_from_response(response(status, {"error": {"message": "nope"}}))

    assert type(error) is error_class
    assert error.reason == reason
    assert error.provider == "acme"
    assert error.message.endswith(f"(HTTP {status}): nope")
    assert error.metadata["provider_http_status"] == str(status)


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"retry-after-ms": "1500"}, None, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, None, 0.25),
        ({"retry-after": "7"}, None, 7.0),
        ({}, None, None),
        ({"retry-after": "soon"}, None, None),
        (
            {},
            {
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}
                    ],
                }
            },
            34.4,
        ),
    ],
)
def test_rate_limit_carries_the_provider_retry_delay(
    headers: dict[str, str], body: object, expected: float | None
) -> None:
    error = error_from_response(response(429, body, headers))

    assert isinstance(error, ResourceExhausted)
    assert error.retry_after_seconds == expected
    assert error.retryable


def test_retry_after_as_http_date_counts_from_now() -> None:
    moment = datetime.now(UTC) + timedelta(seconds=30)

    seconds = retry_after_seconds(
        httpx.Headers({"retry-after": format_datetime(moment, usegmt=True)})
    )

    assert seconds is not None
    assert 25 <= seconds <= 31


def test_spent_quota_is_not_retryable() -> None:
    body = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}

    error = error_from_response(response(429, body))

    assert isinstance(error, ResourceExhausted)
    assert (error.reason, error.retryable) == ("QUOTA_EXHAUSTED", False)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "m1", "type": "t"}}, "m1"),
        ({"type": "error", "error": {"type": "authentication_error", "message": "m2"}}, "m2"),
        ({"error": "m3"}, "m3"),
        ({"detail": "m4"}, "m4"),
        ({"detail": {"status": "invalid_api_key", "message": "m5"}}, "m5"),
        ({"message": "m6", "request_id": "r"}, "m6"),
        ({"err_code": "INVALID_AUTH", "err_msg": "m7"}, "m7"),
        ({"title": "Unauthenticated", "detail": "m8", "status": 401}, "m8"),
        ({"error": "invalid_grant", "error_description": "m9"}, "invalid_grant: m9"),
        ([{"error": {"code": 500, "message": "m10"}}], "m10"),
        (None, ""),
        ("plain text", "plain text"),
    ],
)
def test_every_provider_error_body_shape_yields_its_message(body: object, expected: str) -> None:
    assert provider_error_message(body) == expected


def test_bedrock_error_code_comes_from_the_amazon_header() -> None:
    headers = {
        "x-amzn-ErrorType": "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.bedrock/"
    }

    error = error_from_response(response(403, {"message": "bad token"}, headers))

    assert error.metadata["provider_error_type"] == "UnrecognizedClientException"


def test_known_secret_is_scrubbed_from_provider_text() -> None:
    secret = "plainlowercasesecretvalue"

    error = error_from_response(
        response(401, {"error": {"message": f"key {secret} refused"}}, secrets=(secret,))
    )

    assert secret not in error.message
    assert "[redacted]" in error.message


def test_html_error_page_gives_a_message_without_the_page() -> None:
    error = error_from_response(response(403, None))

    assert error.message == "acme rejected the credential (HTTP 403)"


def test_gemini_invalid_key_400_is_a_rejected_credential() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
            ],
        }
    }

    error = error_from_response(response(400, body), classify_google_error)

    assert isinstance(error, FailedPrecondition)
    assert error.reason == "CREDENTIAL_REJECTED"


def test_gemini_other_400_stays_an_invalid_argument() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "User location is not supported",
            "status": "FAILED_PRECONDITION",
        }
    }

    error = error_from_response(response(400, body), classify_google_error)

    assert isinstance(error, InvalidArgument)


def test_a_404_to_a_model_call_names_the_model_and_keeps_the_provider_words() -> None:
    body = {"error": {"message": "The model `gpt-9` does not exist", "code": "model_not_found"}}
    error = naming_the_model(error_from_response(response(404, body)), "gpt-9")

    assert isinstance(error, NotFound)
    assert error.message == (
        'model "gpt-9" not found at acme (HTTP 404): The model `gpt-9` does not exist'
    )
    assert error.reason == "MODEL_NOT_FOUND"
    assert error.metadata["model"] == "gpt-9"
    assert error.metadata["provider_error_type"] == "model_not_found"


def test_only_a_404_is_worded_as_a_missing_model() -> None:
    for status in (400, 401, 500):
        error = error_from_response(response(status, {"error": {"message": "no"}}))
        assert naming_the_model(error, "gpt-9") is error


def test_a_huge_model_name_is_quoted_only_in_part() -> None:
    error = naming_the_model(error_from_response(response(404)), "m" * 10_000)

    assert len(error.message) < 300
    assert error.message == f'model "{"m" * 200}" not found at acme (HTTP 404)'
