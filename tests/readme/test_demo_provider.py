"""The demo provider answers as the real providers do: the service's own provider code reads
its key checks, refusals and speech sockets as it reads the real ones.

(Its chat, embeddings and `/v1/speak` answers are read by the README test, through the README's
own examples.)
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import betterproto2
import httpx
import pytest
from aiohttp import web
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AudioEncoding,
    AudioFormat,
    CheckOutcome,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    FinalizeAudio,
    FlushText,
    SynthesisConfig,
    SynthesizeStreamRequest,
    TranscribeRequest,
    TranscriptionConfig,
    VerifyCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, SpeechServiceStub

from scripts.tools.demo_provider import build_app, parse_arguments
from scripts.tools.demo_provider_speak import SECONDS_PER_CHARACTER
from scripts.tools.demo_provider_wire import ANSWER
from tests.speech.conftest import exchange, tone
from tests.support.service import RunningService, running_service

# The path each provider's base URL carries (OpenAI's includes its version).
BASE_PATHS = {"openai": "/v1", "openai-compatible": "/v1", "anthropic": "", "deepgram": ""}


@pytest.fixture(scope="module")
async def demo_url() -> AsyncIterator[str]:
    runner = web.AppRunner(build_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


async def _stored(service: RunningService, demo_url: str, provider: str, key: str) -> str:
    reply = await CredentialServiceStub(service.channel).create_credential(
        CreateCredentialRequest(
            provider=provider,
            name=f"demo {provider} {secrets.token_hex(4)}",
            secret=CredentialSecret(api_key=ApiKeySecret(key=key)),
            config=CredentialConfig(base_url=demo_url + BASE_PATHS[provider]),
            skip_verification=True,
        ),
        metadata=service.auth(),
    )
    assert reply.credential is not None
    return reply.credential.id


async def _verified(service: RunningService, demo_url: str, provider: str, key: str) -> Any:
    credential_id = await _stored(service, demo_url, provider, key)
    reply = await CredentialServiceStub(service.channel).verify_credential(
        VerifyCredentialRequest(id=credential_id), metadata=service.auth()
    )
    assert reply.check is not None
    return reply.check


@pytest.mark.parametrize("provider", sorted(BASE_PATHS))
async def test_any_key_verifies_with_the_providers_own_key_check(
    provider: str, service: RunningService, demo_url: str
) -> None:
    check = await _verified(service, demo_url, provider, "demo-key-0001")
    assert check.outcome == CheckOutcome.VALID, check.message


@pytest.mark.parametrize("provider", sorted(BASE_PATHS))
async def test_a_rejected_key_is_refused_as_the_provider_refuses_it(
    provider: str, service: RunningService, demo_url: str
) -> None:
    check = await _verified(service, demo_url, provider, "rejected-key-0001")
    assert check.outcome == CheckOutcome.INVALID, check.message
    assert "401" in check.message


async def test_transcribe_hears_the_fixed_answer_over_the_listen_socket(
    service: RunningService, demo_url: str
) -> None:
    credential_id = await _stored(service, demo_url, "deepgram", "demo-key-0001")
    frames = tone(0.5)

    async def requests() -> AsyncIterator[TranscribeRequest]:
        audio = AudioFormat(encoding=AudioEncoding.LINEAR16, sample_rate_hz=16000)
        config = TranscriptionConfig(credential_id=credential_id, audio=audio)
        yield TranscribeRequest(config=config)
        for frame in frames:
            yield TranscribeRequest(audio=frame)
            await asyncio.sleep(0.001)
        yield TranscribeRequest(finalize=FinalizeAudio())

    call = SpeechServiceStub(service.channel).transcribe(metadata=service.auth())
    responses = await exchange(call, requests())
    finals = [r.transcript for r in responses if r.transcript and r.transcript.is_final]
    assert [final.text for final in finals] == [ANSWER]
    assert finals[0].end_of_utterance and finals[0].words[-1].text == "provider."
    metadata = responses[-1].metadata
    assert metadata is not None and metadata.audio_bytes == sum(len(f) for f in frames)
    assert metadata.provider_request_id.startswith("dg-demo-")


async def test_synthesize_stream_speaks_each_flush_over_the_speak_socket(
    service: RunningService, demo_url: str
) -> None:
    credential_id = await _stored(service, demo_url, "deepgram", "demo-key-0001")

    async def requests() -> AsyncIterator[SynthesizeStreamRequest]:
        audio = AudioFormat(encoding=AudioEncoding.MULAW, sample_rate_hz=8000)
        config = SynthesisConfig(credential_id=credential_id, audio=audio)
        yield SynthesizeStreamRequest(config=config)
        yield SynthesizeStreamRequest(text="Hello ")
        yield SynthesizeStreamRequest(flush=FlushText())
        yield SynthesizeStreamRequest(text="world.")

    call = SpeechServiceStub(service.channel).synthesize_stream(metadata=service.auth())
    responses = await exchange(call, requests())
    kinds = [betterproto2.which_one_of(item, "kind")[0] for item in responses]
    assert "flushed" in kinds and kinds[-1] == "done"
    audio = b"".join(r.audio.data for r in responses if r.audio)
    # μ-law at 8000 Hz: one byte a sample, 60 ms a character of each flushed stretch.
    per_character = round(SECONDS_PER_CHARACTER * 8000)
    assert len(audio) == per_character * len("Hello world.")


def test_help_names_every_route_it_serves(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    routes = {(route.method, route.resource.canonical) for route in build_app().router.routes()}
    for method, path in routes - {("HEAD", path) for _, path in routes}:
        assert re.search(rf"{method} +{re.escape(path)}\b", shown), (method, path)


async def test_pace_spaces_the_events_of_a_streamed_answer() -> None:
    """`--pace` slows a streamed answer down (the image check stops a server in the middle of
    one); whole answers and the events' content are unchanged."""
    assert parse_arguments(["--pace", "0.2", "--port", "0"]).pace == 0.2
    runner = web.AppRunner(build_app(pace=0.2))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/chat/completions"
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    arrivals: list[float] = []
    try:
        async with (
            httpx.AsyncClient() as client,
            client.stream("POST", url, json=body, headers={"authorization": "Bearer k"}) as reply,
        ):
            async for line in reply.aiter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic())
    finally:
        await runner.cleanup()
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(arrivals) >= 3
    assert min(gaps) >= 0.15, gaps
