"""An error a provider reports inside an open socket (a frame, a close code) that says the
request itself is wrong ends the RPC INVALID_ARGUMENT or FAILED_PRECONDITION, not a retryable
UNAVAILABLE: per provider, over the wire, with the frames the provider documents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.speech.conftest import SpeechUpstream, exchange_ending_early
from tests.speech.test_conformance import audio_stream, text_stream
from tests.speech.test_failures import error_info
from tests.support.service import RunningService

# provider, rpc, error frame (None: a close only), close (code, reason), status, error type
CASES: list[tuple[str, str, dict[str, Any] | None, tuple[int, str], grpc.StatusCode, str]] = [
    (
        "elevenlabs",
        "synthesize_stream",
        {"message": "Invalid request for {key}.", "error": "invalid_request", "code": 1008},
        (1008, "Invalid request"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid_request",
    ),
    (
        "elevenlabs",
        "synthesize_stream",
        {"message": "Voice not found.", "error": "voice_not_found", "code": 1008},
        (1008, "Voice not found"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "voice_not_found",
    ),
    (
        "elevenlabs",
        "transcribe",
        {"message_type": "input_error", "error": "Unsupported audio format for {key}."},
        (1008, "input_error"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "input_error",
    ),
    (
        "elevenlabs",
        "transcribe",
        {"message_type": "unaccepted_terms_error", "error": "Accept the terms first."},
        (1008, "terms"),
        grpc.StatusCode.PERMISSION_DENIED,
        "unaccepted_terms_error",
    ),
    (
        "deepgram",
        "transcribe",
        {"type": "Error", "err_code": "INVALID_QUERY_PARAMETER", "description": "No model."},
        (1000, ""),
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_QUERY_PARAMETER",
    ),
    (
        "deepgram",
        "synthesize_stream",
        None,
        (1008, "DATA-0000 the text could not be read"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "DATA-0000",
    ),
    (
        "cartesia",
        "synthesize_stream",
        {
            "type": "error",
            "done": True,
            "status_code": 400,
            "error_code": "invalid_request",
            "title": "Invalid request",
            "message": "Unknown model sonic-9 ({key}).",
        },
        (1000, ""),
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid_request",
    ),
    (
        "cartesia",
        "transcribe",
        {
            "type": "error",
            "done": True,
            "status_code": 402,
            "error_code": "quota_exceeded",
            "title": "Quota exceeded",
            "message": "No credits left.",
        },
        (1000, ""),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "quota_exceeded",
    ),
    (
        "assemblyai",
        "transcribe",
        {"type": "Error", "error_code": 3006, "error": "Invalid Message: {key}"},
        (3006, "See Error message for details"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "3006",
    ),
    (
        "assemblyai",
        "transcribe",
        None,  # the close alone, its frame lost
        (3007, "Input Duration Violation"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "3007",
    ),
]


@pytest.mark.parametrize(("provider", "rpc", "frame", "close", "code", "error_type"), CASES)
async def test_an_in_band_error_ends_with_its_own_status(
    provider: str,
    rpc: str,
    frame: dict[str, Any] | None,
    close: tuple[int, str],
    code: grpc.StatusCode,
    error_type: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    upstream.server.error_frame = frame
    upstream.server.error_close = close
    failure = await failed_call(rpc, speech, service, upstream)
    assert failure.code() == code
    info = error_info(failure)
    assert info["provider"] == provider and info["provider_error_type"] == error_type
    assert upstream.key not in (failure.details() or "")


async def failed_call(
    rpc: str, speech: SpeechServiceStub, service: RunningService, upstream: SpeechUpstream
) -> grpc.aio.AioRpcError:
    """The status a `transcribe` or `synthesize_stream` call through `upstream` ends with."""
    call: Callable[[], Any]
    requests: Callable[[], AsyncIterator[Any]]
    if rpc == "transcribe":
        call = lambda: speech.transcribe(metadata=service.auth())  # noqa: E731
        requests = lambda: audio_stream(upstream)  # noqa: E731
    else:
        call = lambda: speech.synthesize_stream(metadata=service.auth())  # noqa: E731
        requests = lambda: text_stream(upstream)  # noqa: E731
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(call, requests)
    return raised.value
