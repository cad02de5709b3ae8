"""Cartesia contexts end once: a context that is done or cancelled gets no further message.

Cartesia expires a context a second after its last audio; a cancel sent for it afterwards is a
message about a context that no longer exists. The replay server records such messages as
protocol errors, and these tests prove both that it does and that the service sends none.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
from integration_api_proto.integration.v1 import ClearText, FlushText, SynthesizeStreamRequest
from integration_api_proto.integration.v1.grpc_aio import SpeechServiceStub

from tests.fakes.cartesia_speech_server import CartesiaServer
from tests.speech.conftest import SpeechUpstream, exchange
from tests.speech.test_conformance import kinds, synthesis_config, text_stream
from tests.support.service import RunningService


async def test_replay_server_flags_a_cancel_for_a_context_that_is_done() -> None:
    async with (
        CartesiaServer() as server,
        aiohttp.ClientSession() as client,
        client.ws_connect(f"ws://127.0.0.1:{server.port}/tts/websocket") as socket,
    ):
        await socket.send_json({"context_id": "c1", "transcript": "Hi", "continue": False})
        while json.loads(await socket.receive_str())["type"] != "done":
            pass
        await socket.send_json({"context_id": "c1", "cancel": True})
        await socket.receive_str()  # the fake's answer: the cancel was read
    (session,) = server.sessions
    assert session.protocol_errors == ["cancel for finished context c1"]


async def test_a_finished_stream_sends_nothing_for_its_done_context(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["cartesia"]
    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, text_stream(upstream))
    assert kinds(responses)[-1] == "done"
    (session,) = upstream.server.sessions
    assert await session.closed(within=2.0), "the provider socket outlived the call"
    assert not [text for text in session.texts() if text.get("cancel")]
    assert session.protocol_errors == []


async def _cleared_then_ended(upstream: SpeechUpstream) -> AsyncIterator[SynthesizeStreamRequest]:
    yield SynthesizeStreamRequest(config=synthesis_config(upstream))
    yield SynthesizeStreamRequest(text="Hello ")
    yield SynthesizeStreamRequest(flush=FlushText())
    yield SynthesizeStreamRequest(clear=ClearText())


async def test_a_cleared_context_is_cancelled_once_when_the_stream_ends_after_it(
    speech: SpeechServiceStub, service: RunningService, upstreams: dict[str, SpeechUpstream]
) -> None:
    upstream = upstreams["cartesia"]
    call = speech.synthesize_stream(metadata=service.auth())
    responses = await exchange(call, _cleared_then_ended(upstream))
    assert kinds(responses)[-2:] == ["cleared", "done"]
    (session,) = upstream.server.sessions
    assert await session.closed(within=2.0), "the provider socket outlived the call"
    assert len([text for text in session.texts() if text.get("cancel")]) == 1
    assert session.protocol_errors == []
