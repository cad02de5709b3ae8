"""Every way a provider session can fail ends the RPC non-OK, with the provider's code."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from integration_api_proto.integration.v1 import SynthesizeRequest, TranscribeRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.speech.conftest import SpeechUpstream, exchange, exchange_ending_early
from tests.speech.test_conformance import (
    audio_stream,
    synthesis_config,
    text_stream,
    transcribe_config,
)
from tests.support.service import RunningService


def error_info(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return {"reason": info.reason, **dict(info.metadata)}
    raise AssertionError("no ErrorInfo")


@pytest.mark.parametrize(
    ("provider", "behaviour", "code", "expected"),
    [
        (
            "deepgram",
            "undecodable",
            grpc.StatusCode.INVALID_ARGUMENT,
            {"provider_error_type": "DATA-0000", "provider_close_code": "1008"},
        ),
        ("deepgram", "drop", grpc.StatusCode.UNAVAILABLE, {"provider_close_code": "1006"}),
        (
            "deepgram",
            "missing_metadata",
            grpc.StatusCode.UNAVAILABLE,
            {"reason": "STREAM_TRUNCATED"},
        ),
        (
            "deepgram",
            "unauthorized",
            grpc.StatusCode.FAILED_PRECONDITION,
            {"reason": "CREDENTIAL_REJECTED"},
        ),
        (
            "assemblyai",
            "error_frame",
            grpc.StatusCode.INVALID_ARGUMENT,
            {"provider_error_type": "3007"},
        ),
        (
            "assemblyai",
            "missing_termination",
            grpc.StatusCode.UNAVAILABLE,
            {"reason": "STREAM_TRUNCATED"},
        ),
        (
            "openai",
            "stream_error",
            grpc.StatusCode.UNAVAILABLE,
            {"reason": "PROVIDER_STREAM_ERROR", "provider_error_type": "server_error"},
        ),
        ("openai", "missing_done", grpc.StatusCode.UNAVAILABLE, {"reason": "STREAM_TRUNCATED"}),
        (
            "openai",
            "unauthorized",
            grpc.StatusCode.FAILED_PRECONDITION,
            {"reason": "CREDENTIAL_REJECTED"},
        ),
        (
            "cartesia",
            "error_frame",
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            {"provider_error_type": "concurrency_limited"},
        ),
        ("cartesia", "missing_done", grpc.StatusCode.UNAVAILABLE, {"reason": "STREAM_TRUNCATED"}),
        ("cartesia", "drop", grpc.StatusCode.UNAVAILABLE, {"provider_close_code": "1006"}),
        (
            "elevenlabs",
            "quota_frame",
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            {"reason": "QUOTA_EXHAUSTED", "provider_error_type": "quota_exceeded"},
        ),
    ],
)
async def test_transcription_failures_end_non_ok(
    provider: str,
    behaviour: str,
    code: grpc.StatusCode,
    expected: dict[str, str],
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    upstream.server.behaviour = behaviour
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: speech.transcribe(metadata=service.auth()), lambda: audio_stream(upstream)
        )
    assert raised.value.code() == code
    info = error_info(raised.value)
    assert info["provider"] == provider
    assert expected.items() <= info.items()


async def test_deepgram_idle_close_without_keep_alive_is_an_error(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """The server's idle close (1011 NET-0001) is never a clean end."""
    upstream = upstreams["deepgram"]
    upstream.server.idle_close_seconds = 0.05  # shorter than the service's keep-alive interval
    stream = audio_stream(upstream, pause=0.5)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange(speech.transcribe(metadata=service.auth()), stream)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    info = error_info(raised.value)
    assert info["provider_close_code"] == "1011" and info["provider_error_type"] == "NET-0001"


async def test_elevenlabs_quota_401_is_not_a_bad_key(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["elevenlabs"]
    upstream.server.behaviour = "quota_401"
    request = SynthesizeRequest(config=synthesis_config(upstream), text="Hello")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        [r async for r in speech.synthesize(request, metadata=service.auth())]
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    info = error_info(raised.value)
    assert info["reason"] == "QUOTA_EXHAUSTED" and info["provider_http_status"] == "401"


async def test_elevenlabs_stream_without_its_final_event_is_truncated(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["elevenlabs"]
    upstream.server.behaviour = "missing_final"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: speech.synthesize_stream(metadata=service.auth()),
            lambda: text_stream(upstream),
        )
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(raised.value)["reason"] == "STREAM_TRUNCATED"


async def test_elevenlabs_error_frame_ends_the_stream_with_its_code(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["elevenlabs"]
    upstream.server.idle_close_seconds = 0.05  # the socket's input timeout fires first
    stream = text_stream(upstream, pause=0.5)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange(speech.synthesize_stream(metadata=service.auth()), stream)
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_info(raised.value)["provider_error_type"] == "input_timeout_exceeded"


@pytest.mark.parametrize(
    ("behaviour", "code", "expected"),
    [
        (
            "error_frame",
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            {"provider_error_type": "concurrency_limited", "provider_http_status": "429"},
        ),
        ("missing_done", grpc.StatusCode.UNAVAILABLE, {"reason": "STREAM_TRUNCATED"}),
    ],
)
async def test_cartesia_socket_failures_end_non_ok(
    behaviour: str,
    code: grpc.StatusCode,
    expected: dict[str, str],
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams["cartesia"]
    upstream.server.behaviour = behaviour
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange_ending_early(
            lambda: speech.synthesize_stream(metadata=service.auth()),
            lambda: text_stream(upstream),
        )
    assert raised.value.code() == code
    info = error_info(raised.value)
    assert info["provider"] == "cartesia"
    assert expected.items() <= info.items()


async def test_a_transcription_without_authentication_is_refused(
    speech: SpeechServiceStub, upstreams: dict[str, SpeechUpstream]
) -> None:
    call = speech.transcribe()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        # The refusal may end the call before the write is taken.
        await call.write(transcribe_config(upstreams["deepgram"]))
        await call.read()
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert not upstreams["deepgram"].server.sessions


async def test_a_stream_without_its_configuration_first_is_refused(
    speech: SpeechServiceStub, service: RunningService
) -> None:
    async def no_config() -> AsyncIterator[TranscribeRequest]:
        yield TranscribeRequest(audio=b"\x00\x00")

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await exchange(speech.transcribe(metadata=service.auth()), no_config())
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
