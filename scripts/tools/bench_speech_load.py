"""Speech load for the benchmark: one Transcribe, Synthesize or SynthesizeStream session,
directly against the fake Deepgram and through the service.

Transcribe streams `audio_seconds` of generated linear16 audio in 20 ms frames at the pace of
real time (frame i leaves at first + i * 20 ms, so lateness does not accumulate) and measures
from the first frame sent to the first transcript. Synthesize measures from the start of the
call to the first audio byte and counts the bytes; SynthesizeStream likewise, the text sent as
one fragment and the input ended (directly: `Speak`, `Flush`, and `Close` after `Flushed`, as
the service does). Both clients keep messages as raw bytes
(the service's stay protobuf, read only as far as their tags), so the difference between the two
is the service and not the client.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import grpc.aio

from scripts.tools.bench_load import Sample

FRAME_SECONDS = 0.02
SAMPLE_RATE_HZ = 16_000
# One 20 ms frame of 16 kHz linear16 mono: 320 samples of two bytes.
FRAME = (b"\x10\x00\xf0\xff" * 160)[: int(SAMPLE_RATE_HZ * FRAME_SECONDS) * 2]
# TranscribeResponse.transcript (field 1) and SynthesizeResponse.audio (field 1), both
# length-delimited, start with this tag.
_FIRST_FIELD_TAG = 0x0A
FIRST_BYTE_SETTLE_SECONDS = 0.005


def audio_frames(audio_seconds: float) -> int:
    return max(1, round(audio_seconds / FRAME_SECONDS))


def _varint(data: bytes, offset: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, offset
        shift += 7


def audio_bytes_in(message: bytes) -> int:
    """The audio bytes of a SynthesizeResponse holding an AudioChunk (0 for any other kind)."""
    if not message or message[0] != _FIRST_FIELD_TAG:
        return 0
    _, offset = _varint(message, 1)  # the AudioChunk's length
    if offset >= len(message) or message[offset] != _FIRST_FIELD_TAG:
        return 0
    length, _ = _varint(message, offset + 1)
    return length


@dataclass
class _Clock:
    """When the first frame left; each later frame is due a frame's length after the one before."""

    first: float = 0.0

    async def pace(self, index: int) -> None:
        if index == 0:
            self.first = time.perf_counter()
            return
        delay = self.first + index * FRAME_SECONDS - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass(frozen=True)
class DirectSpeechClient:
    """Calls the fake Deepgram as the service does: its WebSocket and its streamed POST."""

    session: aiohttp.ClientSession
    base_url: str
    headers: dict[str, str]
    frames: int
    speak_body: bytes

    async def transcribe(self) -> Sample:
        url = self.base_url.replace("http://", "ws://") + "/v1/listen"
        params = {"model": "nova-3", "encoding": "linear16", "sample_rate": str(SAMPLE_RATE_HZ)}
        clock = _Clock()
        first, transcripts = 0.0, 0
        async with self.session.ws_connect(url, params=params, headers=self.headers) as socket:

            async def send() -> None:
                for index in range(self.frames):
                    await clock.pace(index)
                    await socket.send_bytes(FRAME)
                await socket.send_str(json.dumps({"type": "CloseStream"}))

            sending = asyncio.get_running_loop().create_task(send())
            async for message in socket:
                if message.type is aiohttp.WSMsgType.TEXT and '"Results"' in message.data:
                    transcripts += 1
                    if not first:
                        first = time.perf_counter() - clock.first
            await sending
            if socket.close_code != 1000:
                raise RuntimeError("the socket did not close normally")
        return Sample(first, time.perf_counter() - clock.first, transcripts)

    async def synthesize(self) -> Sample:
        started = time.perf_counter()
        first, received = 0.0, 0
        params = {"model": "aura-2-thalia-en", "encoding": "linear16", "container": "none"}
        async with self.session.post(
            self.base_url + "/v1/speak", params=params, data=self.speak_body, headers=self.headers
        ) as response:
            if response.status != 200:
                raise RuntimeError(f"upstream answered {response.status}")
            async for data in response.content.iter_any():
                if data and not first:
                    first = time.perf_counter() - started
                received += len(data)
        return Sample(first, time.perf_counter() - started, received)

    async def synthesize_stream(self) -> Sample:
        url = self.base_url.replace("http://", "ws://") + "/v1/speak"
        params = {"model": "aura-2-thalia-en", "encoding": "linear16"}
        started = time.perf_counter()
        first, received = 0.0, 0
        async with self.session.ws_connect(url, params=params, headers=self.headers) as socket:
            await socket.send_str(self.speak_text_message)
            await socket.send_str('{"type":"Flush"}')
            async for message in socket:
                if message.type is aiohttp.WSMsgType.BINARY:
                    if not first:
                        first = time.perf_counter() - started
                    received += len(message.data)
                elif message.type is aiohttp.WSMsgType.TEXT and '"Flushed"' in message.data:
                    await socket.send_str('{"type":"Close"}')
            if socket.close_code != 1000:
                raise RuntimeError("the socket did not close normally")
        return Sample(first, time.perf_counter() - started, received)

    @property
    def speak_text_message(self) -> str:
        text = json.loads(self.speak_body)["text"]
        return json.dumps({"type": "Speak", "text": text}, separators=(",", ":"))


@dataclass
class ServiceSpeechClient:
    """Calls SpeechService with pre-encoded requests, reading replies only as far as their tags."""

    channel: grpc.aio.Channel
    metadata: tuple[tuple[str, str], ...]
    transcribe_config: bytes
    audio_request: bytes
    frames: int
    synthesize_request: bytes
    # SynthesizeStream: the configuration, then the text as one fragment; then the input ends.
    synthesize_stream_requests: tuple[bytes, bytes]

    async def _requests(self, clock: _Clock) -> AsyncIterator[bytes]:
        yield self.transcribe_config
        for index in range(self.frames):
            await clock.pace(index)
            yield self.audio_request

    async def transcribe(self) -> Sample:
        method: grpc.aio.StreamStreamMultiCallable[bytes, bytes] = self.channel.stream_stream(
            "/integration.v1.SpeechService/Transcribe"
        )
        clock = _Clock()
        first, transcripts = 0.0, 0
        call = method(self._requests(clock), metadata=self.metadata, timeout=60)
        async for message in call:
            if message[:1] == bytes((_FIRST_FIELD_TAG,)):
                transcripts += 1
                if not first:
                    first = time.perf_counter() - clock.first
        if await call.code() != grpc.StatusCode.OK:
            raise RuntimeError("the call did not end OK")
        return Sample(first, time.perf_counter() - clock.first, transcripts)

    async def synthesize(self) -> Sample:
        method: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = self.channel.unary_stream(
            "/integration.v1.SpeechService/Synthesize"
        )
        started = time.perf_counter()
        first, received = 0.0, 0
        call = method(self.synthesize_request, metadata=self.metadata, timeout=60)
        async for message in call:
            audio = audio_bytes_in(message)
            if audio and not first:
                first = time.perf_counter() - started
            received += audio
        if await call.code() != grpc.StatusCode.OK:
            raise RuntimeError("the call did not end OK")
        return Sample(first, time.perf_counter() - started, received)

    async def synthesize_stream(self) -> Sample:
        method: grpc.aio.StreamStreamMultiCallable[bytes, bytes] = self.channel.stream_stream(
            "/integration.v1.SpeechService/SynthesizeStream"
        )
        started = time.perf_counter()
        first, received = 0.0, 0
        call = method(iter(self.synthesize_stream_requests), metadata=self.metadata, timeout=60)
        async for message in call:
            audio = audio_bytes_in(message)
            if audio and not first:
                first = time.perf_counter() - started
            received += audio
        if await call.code() != grpc.StatusCode.OK:
            raise RuntimeError("the call did not end OK")
        return Sample(first, time.perf_counter() - started, received)

    async def synthesize_cpu_to_first_byte(self, service_cpu: Callable[[], float]) -> float:
        """One Synthesize alone: the service's CPU seconds from the call to its first audio
        byte (read once the byte is here and the service waits for the fake's next chunk)."""
        method: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = self.channel.unary_stream(
            "/integration.v1.SpeechService/Synthesize"
        )
        before = service_cpu()
        spent = -1.0
        call = method(self.synthesize_request, metadata=self.metadata, timeout=60)
        async for message in call:
            if spent < 0 and audio_bytes_in(message):
                # The fake's next chunk is tens of ms away: let the service finish writing.
                await asyncio.sleep(FIRST_BYTE_SETTLE_SECONDS)
                spent = service_cpu() - before
        if await call.code() != grpc.StatusCode.OK or spent < 0:
            raise RuntimeError("the call did not end OK")
        return spent
