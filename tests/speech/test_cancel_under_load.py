"""Callers leaving by the dozen, at once: every provider session still gets its end-of-input
message before its socket closes, whatever the sending side was doing when the call ended."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from integration_api_proto.integration.v1 import TranscribeRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.speech.conftest import SpeechUpstream, tone
from tests.speech.test_cancel import END_OF_INPUT, _open
from tests.speech.test_conformance import transcribe_config
from tests.support.service import RunningService

CALLS = 50


async def _leave(call: Any, ending: str) -> None:
    if ending == "cancel":
        call.cancel()
        return
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        while True:
            await call.read()
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def _ended_properly(session: Any, expected: object) -> bool:
    texts = session.texts()
    if not texts:
        return False
    last = texts[-1]
    if isinstance(expected, dict):
        return isinstance(last, dict) and expected.items() <= last.items()
    return bool(last == expected)


@pytest.mark.parametrize("ending", ["cancel", "deadline"])
@pytest.mark.parametrize(("provider", "rpc"), list(END_OF_INPUT))
async def test_every_cancelled_session_gets_its_end_of_input_before_the_close(
    provider: str,
    rpc: str,
    ending: str,
    speech: SpeechServiceStub,
    service: RunningService,
    upstreams: dict[str, SpeechUpstream],
) -> None:
    upstream = upstreams[provider]
    # Long enough for fifty calls to open on a shared machine before it passes.
    deadline = 2.5 if ending == "deadline" else None

    async def one() -> None:
        call = await _open(speech, upstream, rpc, service.auth(), deadline)
        await _leave(call, ending)

    await asyncio.gather(*(one() for _ in range(CALLS)))
    sessions = upstream.server.sessions
    assert len(sessions) == CALLS
    closed = await asyncio.gather(*(session.closed(within=3.0) for session in sessions))
    assert all(closed), "a provider session outlived its caller"
    expected = END_OF_INPUT[(provider, rpc)]
    missing = [s.texts()[-1:] for s in sessions if not _ended_properly(s, expected)]
    assert not missing, f"{len(missing)} of {CALLS} sessions closed without {expected}"
    if (provider, rpc) == ("cartesia", "synthesize_stream"):
        # See test_cancel: the replay server's `done` can cross the service's cancel.
        for session in sessions:
            session.protocol_errors.clear()


async def test_openai_uploads_nothing_for_callers_that_leave_before_their_end(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    """OpenAI takes whole uploads: its end of input is the upload itself, never sent for a
    caller that left, however many leave at once."""
    upstream = upstreams["openai"]

    async def one() -> None:
        call = speech.transcribe(metadata=service.auth())
        await call.write(transcribe_config(upstream))
        for frame in tone(0.2):
            await call.write(TranscribeRequest(audio=frame))
        call.cancel()

    await asyncio.gather(*(one() for _ in range(CALLS)))
    await asyncio.sleep(0.3)
    assert not upstream.server.sessions
