"""Whether a call through a route moves on from an attempt: the rules every operation shares,
here with the failures speech brings (a broken stream, the tenant's speech caps)."""

from __future__ import annotations

import pytest

from integration_api.errors import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    ServiceError,
    Unavailable,
)
from integration_api.routes.model import CIRCUIT_OPEN, CREDENTIAL_RATE_LIMITED
from integration_api.routes.outcomes import MOVES_ON, first_token_timeout, outcome_of


def with_metadata(error: ServiceError, **metadata: str) -> ServiceError:
    error.metadata.update(metadata)
    return error


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (ResourceExhausted("at its limit", reason=CREDENTIAL_RATE_LIMITED), "skipped_rate_limited"),
        (Unavailable("breaker open", reason=CIRCUIT_OPEN), "skipped_breaker_open"),
        (FailedPrecondition("disabled", reason="CREDENTIAL_DISABLED"), "skipped_unavailable"),
        (FailedPrecondition("no tts", reason="CAPABILITY_NOT_SUPPORTED"), "skipped_unavailable"),
        (NotFound("credential gone"), "skipped_unavailable"),
        (FailedPrecondition("refused", reason="CREDENTIAL_REJECTED"), "key_refused"),
        (ResourceExhausted("429", provider="deepgram"), "rate_limited"),
        (ResourceExhausted("quota", reason="QUOTA_EXHAUSTED"), "rate_limited"),
        (
            with_metadata(Unavailable("refused"), transport_failure="connection_refused"),
            "unreachable",
        ),
        (
            with_metadata(DeadlineExceeded("silent"), transport_failure="read_timeout"),
            "unreachable",
        ),
        (Unavailable("503", provider="deepgram"), "provider_error"),
        (Unavailable("truncated", reason="STREAM_TRUNCATED"), "provider_error"),
        (first_token_timeout(1.5), "first_token_timeout"),
    ],
)
def test_a_call_moves_on_from(error: ServiceError, outcome: str) -> None:
    assert outcome_of(error) == outcome and outcome in MOVES_ON


@pytest.mark.parametrize(
    "error",
    [
        InvalidArgument.for_field("config.audio", "no such rate"),
        FailedPrecondition("content", reason="PROVIDER_REJECTED_REQUEST"),
        with_metadata(NotFound("no such voice"), provider_http_status="404"),
        ResourceExhausted("sessions", reason="SPEECH_SESSION_LIMIT"),
        ResourceExhausted("audio", reason="SPEECH_AUDIO_LIMIT"),
        ResourceExhausted("text", reason="SPEECH_TEXT_LIMIT"),
        ResourceExhausted("calls", reason="TENANT_CONCURRENT_CALL_LIMIT"),
        DeadlineExceeded("the caller's own deadline"),
    ],
)
def test_a_call_ends_on(error: ServiceError) -> None:
    assert outcome_of(error) == "failed"
