"""Bedrock's event stream over real HTTP: however it is cut into reads, and held to its bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web

from integration_api.credentials.model import ApiKey, CredentialConfig, ProviderCredential
from integration_api.errors import DeadlineExceeded, ServiceError, Unavailable
from integration_api.llm.contract import (
    ChatMessage,
    ChatRequest,
    Finish,
    Role,
    StreamPart,
    TextContent,
    TextDelta,
)
from integration_api.providers.aws.chat import BEDROCK
from integration_api.providers.http_client import (
    HttpClientSettings,
    ProviderClient,
    create_http_client,
)
from integration_api.upstream import limits
from integration_api.upstream.limits import UpstreamLimits
from integration_api.upstream.timer import UpstreamTimer
from tests.fakes.aws_eventstream import event_frame, read_frames
from tests.fakes.server import FakeServer
from tests.providers.conftest import LOOPBACK_POLICY

TEXT_FRAMES = Path(__file__).resolve().parent.parent / "fixtures" / "bedrock" / "text.frames"
TIGHT = UpstreamLimits(
    max_sse_event_bytes=64 * 1024, max_answer_seconds=1.0, max_event_gap_seconds=0.3
)


@pytest.fixture
async def tight_client() -> AsyncIterator[ProviderClient]:
    async with create_http_client(HttpClientSettings(limits=TIGHT), LOOPBACK_POLICY) as client:
        yield client


def serve(server: FakeServer, pieces: AsyncIterator[bytes]) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "application/vnd.amazon.eventstream"}
        )
        await response.prepare(request)
        try:
            async for piece in pieces:
                await response.write(piece)
        except ConnectionResetError:
            return response
        await response.write_eof()
        return response

    server.route("POST", "/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream", handle)


async def answer(server: FakeServer, http: ProviderClient) -> list[StreamPart]:
    credential = ProviderCredential(
        id="c1",
        provider="bedrock",
        config=CredentialConfig(base_url=server.url, region="us-east-1"),
        secret=ApiKey("ABSK-test-key"),
    )
    request = ChatRequest(
        credential_id="c1",
        model="anthropic.claude-3-haiku-20240307-v1:0",
        messages=(ChatMessage(Role.USER, (TextContent("Hi"),)),),
    )
    return [part async for part in BEDROCK.stream_chat(credential, request, http, UpstreamTimer())]


async def cut(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("piece_size", [7, 64, 1 << 20], ids=["7 B", "64 B", "one write"])
async def test_frames_arrive_whole_however_the_body_is_cut(
    piece_size: int, fake_server: FakeServer, http_client: ProviderClient
) -> None:
    serve(fake_server, cut(b"".join(read_frames(TEXT_FRAMES)), piece_size))
    parts = await answer(fake_server, http_client)
    text = "".join(part.text for part in parts if isinstance(part, TextDelta))
    assert text == "Hello! How can I help you today?"
    assert isinstance(parts[-1], Finish)


async def test_a_frame_past_its_bound_ends_the_answer_before_it_is_read_whole(
    fake_server: FakeServer, tight_client: ProviderClient
) -> None:
    huge = event_frame("contentBlockDelta", b'{"delta":{"text":"' + b"x" * (4 << 20) + b'"}}')
    serve(fake_server, cut(huge, 16 * 1024))
    with pytest.raises(Unavailable) as raised:
        await answer(fake_server, tight_client)
    assert raised.value.reason == limits.SSE_EVENT_TOO_LARGE
    assert "xxxxxxxx" not in str(raised.value)


async def trickle(interval: float) -> AsyncIterator[bytes]:
    """The first bytes of a frame, one at a time, never completing it."""
    frame = event_frame("contentBlockDelta", b'{"delta":{"text":"never"}}')
    for byte in frame[:-1]:
        yield bytes([byte])
        await asyncio.sleep(interval)


async def endless_text(interval: float) -> AsyncIterator[bytes]:
    while True:
        yield event_frame("contentBlockDelta", b'{"contentBlockIndex":0,"delta":{"text":"a"}}')
        await asyncio.sleep(interval)


@pytest.mark.parametrize(
    ("pieces", "reason"),
    [
        (trickle, limits.EVENT_GAP_TOO_LONG),
        (endless_text, limits.ANSWER_TOO_SLOW),
    ],
    ids=["a frame that never completes", "frames that never end"],
)
async def test_a_stream_that_never_ends_is_ended_by_its_time_bounds(
    pieces: Callable[[float], AsyncIterator[bytes]],
    reason: str,
    fake_server: FakeServer,
    tight_client: ProviderClient,
) -> None:
    serve(fake_server, pieces(0.05))
    with pytest.raises(ServiceError) as raised:
        async with asyncio.timeout(5):
            await answer(fake_server, tight_client)
    assert isinstance(raised.value, DeadlineExceeded)
    assert raised.value.reason == reason
