"""A socket's upgrade refused by the provider is read like its HTTP error answer: the body says
why, not the status alone (ElevenLabs' 401 `quota_exceeded` is spent credit, not a bad key, and
leaves the key's standing alone)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import CheckOutcome, GetCredentialRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, SpeechServiceStub

from tests.speech.conftest import KEYS, SpeechUpstream, register
from tests.speech.test_failures import error_info
from tests.speech.test_in_band_errors import failed_call
from tests.support.service import RunningService

QUOTA = {
    "detail": {"status": "quota_exceeded", "message": "This request exceeds your quota {key}."}
}
BAD_KEY = {"detail": {"status": "invalid_api_key", "message": "Invalid API key: {key}"}}
SCOPED = {"detail": {"status": "missing_permissions", "message": "The key {key} lacks tts."}}
DEEPGRAM_QUERY = {
    "err_code": "INVALID_QUERY_PARAMETER",
    "err_msg": "No such model.",
    "request_id": "r",
}
DEEPGRAM_BALANCE = {"err_code": "PAYMENT_REQUIRED", "err_msg": "Balance spent.", "request_id": "r"}
CARTESIA_QUOTA = {
    "error_code": "quota_exceeded",
    "title": "Quota exceeded",
    "message": "You have used all your credits ({key}).",
    "request_id": "car-1",
}
CARTESIA_BUSY = {
    "error_code": "concurrency_limited",
    "title": "Too many concurrent requests",
    "message": "You have exceeded your plan's concurrency limit.",
    "request_id": "car-2",
}
ASSEMBLYAI_KEY = {"error": "Authentication error, API token missing/invalid"}

# provider, rpc, refusal status and body, expected status code, ErrorInfo reason, key marked bad
CASES: list[tuple[str, str, int, dict[str, Any], grpc.StatusCode, str, bool]] = [
    (
        "elevenlabs",
        "synthesize_stream",
        401,
        QUOTA,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "QUOTA_EXHAUSTED",
        False,
    ),
    (
        "elevenlabs",
        "transcribe",
        401,
        QUOTA,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "QUOTA_EXHAUSTED",
        False,
    ),
    (
        "elevenlabs",
        "synthesize_stream",
        401,
        SCOPED,
        grpc.StatusCode.PERMISSION_DENIED,
        "PROVIDER_PERMISSION_MISSING",
        False,
    ),
    (
        "elevenlabs",
        "synthesize_stream",
        401,
        BAD_KEY,
        grpc.StatusCode.FAILED_PRECONDITION,
        "CREDENTIAL_REJECTED",
        True,
    ),
    (
        "deepgram",
        "transcribe",
        400,
        DEEPGRAM_QUERY,
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_ARGUMENT",
        False,
    ),
    (
        "deepgram",
        "synthesize_stream",
        402,
        DEEPGRAM_BALANCE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "QUOTA_EXHAUSTED",
        False,
    ),
    (
        "cartesia",
        "synthesize_stream",
        402,
        CARTESIA_QUOTA,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "QUOTA_EXHAUSTED",
        False,
    ),
    (
        "cartesia",
        "transcribe",
        429,
        CARTESIA_BUSY,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "RATE_LIMITED",
        False,
    ),
    (
        "assemblyai",
        "transcribe",
        401,
        ASSEMBLYAI_KEY,
        grpc.StatusCode.FAILED_PRECONDITION,
        "CREDENTIAL_REJECTED",
        True,
    ),
]


@pytest.mark.parametrize(
    ("provider", "rpc", "status", "body", "code", "reason", "marked_bad"), CASES
)
async def test_a_refused_upgrade_is_read_by_its_body(
    provider: str,
    rpc: str,
    status: int,
    body: dict[str, Any],
    code: grpc.StatusCode,
    reason: str,
    marked_bad: bool,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    server = upstreams[provider].server
    # A credential of its own: a rejected key is recorded on it.
    (upstream,) = (await register(service, {provider: server}, KEYS)).values()
    server.upgrade_refusal = (status, body)
    failure = await failed_call(rpc, speech, service, upstream)
    assert failure.code() == code
    info = error_info(failure)
    assert info["reason"] == reason and info["provider"] == provider
    assert info["provider_http_status"] == str(status)
    assert upstream.key not in (failure.details() or "")
    stored = await CredentialServiceStub(service.channel).get_credential(
        GetCredentialRequest(id=upstream.credential_id), metadata=service.auth()
    )
    assert stored.credential is not None
    check = stored.credential.last_check
    if marked_bad:
        assert check is not None and check.outcome == CheckOutcome.INVALID
    else:
        assert check is None or check.outcome != CheckOutcome.INVALID


async def test_a_refusal_body_is_read_only_so_far(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """A huge refusal body is cut at the bound: the error still comes, from the status."""
    upstream = upstreams["elevenlabs"]
    upstream.server.upgrade_refusal = (401, {"detail": "x" * (1024 * 1024)})
    failure = await failed_call("synthesize_stream", speech, service, upstream)
    assert failure.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert len(failure.details() or "") < 4096
