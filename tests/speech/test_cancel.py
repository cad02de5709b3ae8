"""A caller that cancels, or whose deadline passes, ends the provider session at once: the
provider gets its end-of-input message (where it has one) and the socket closes, so nobody
pays for audio no one hears."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import SynthesizeStreamRequest, TranscribeRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.speech.conftest import SpeechUpstream, tone
from tests.speech.test_conformance import synthesis_config, transcribe_config
from tests.support.service import RunningService

# Per provider and RPC: the end-of-input message the provider must see last (None: it has none
# and the close itself ends the session).
END_OF_INPUT: dict[tuple[str, str], Any] = {
    ("deepgram", "transcribe"): {"type": "CloseStream"},
    ("deepgram", "synthesize_stream"): {"type": "Close"},
    # The commit of the audio sent since the last one.
    ("elevenlabs", "transcribe"): {"commit": True, "audio_base_64": ""},
    ("elevenlabs", "synthesize_stream"): {"text": ""},
    ("assemblyai", "transcribe"): {"type": "Terminate"},
    ("cartesia", "transcribe"): "close",
    # The open context is cancelled (its id is the session's own).
    ("cartesia", "synthesize_stream"): {"cancel": True},
}


async def _open(
    speech: SpeechServiceStub,
    upstream: SpeechUpstream,
    rpc: str,
    metadata: tuple[tuple[str, str], ...],
    deadline: float | None,
) -> Any:
    """A call with its first inputs written and its first answer read."""
    if rpc == "transcribe":
        call: Any = speech.transcribe(metadata=metadata, timeout=deadline)
        await call.write(transcribe_config(upstream))
        for frame in tone(0.2):  # enough for a provider that takes 100 ms messages
            await call.write(TranscribeRequest(audio=frame))
    else:
        call = speech.synthesize_stream(metadata=metadata, timeout=deadline)
        await call.write(SynthesizeStreamRequest(config=synthesis_config(upstream)))
        await call.write(SynthesizeStreamRequest(text="Hello "))
    await call.read()
    return call


@pytest.mark.parametrize("ending", ["cancel", "deadline"])
@pytest.mark.parametrize(("provider", "rpc"), list(END_OF_INPUT))
async def test_a_caller_leaving_ends_the_provider_session_at_once(
    provider: str,
    rpc: str,
    ending: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    timeout = 1.0 if ending == "deadline" else None
    call = await _open(speech, upstream, rpc, service.auth(), timeout)
    if ending == "cancel":
        call.cancel()
    else:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            while True:  # what the provider already sent, then the deadline
                await call.read()
        assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    (session,) = upstream.server.sessions
    assert await session.closed(within=2.0), "the provider session outlived the caller"
    expected = END_OF_INPUT[(provider, rpc)]
    if (provider, rpc) == ("cartesia", "synthesize_stream"):
        # A cancelled call first looks like the end of the caller's text: the service ends the
        # context (`continue: false`), then cancels it. The replay server finishes a context
        # at once, so its `done` can cross that cancel, which the service had not yet read.
        assert set(session.protocol_errors) <= {
            f"cancel for finished context {session.texts()[0]['context_id']}"
        }
        session.protocol_errors.clear()
    last = session.texts()[-1]
    if isinstance(expected, dict):
        assert expected.items() <= last.items()
    elif expected is not None:
        assert last == expected


async def test_openai_audio_is_not_uploaded_when_the_caller_cancels_before_its_end(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """OpenAI transcribes whole uploads: audio whose caller left is never sent, nor billed."""
    upstream = upstreams["openai"]
    call = speech.transcribe(metadata=service.auth())
    await call.write(transcribe_config(upstream))
    for frame in tone(0.2):
        await call.write(TranscribeRequest(audio=frame))
    call.cancel()
    await asyncio.sleep(0.2)
    assert not upstream.server.sessions
