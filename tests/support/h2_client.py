"""A raw HTTP/2 client for looking at what a gRPC server does to a connection: its SETTINGS,
GOAWAY frames, stream ends; things a gRPC client hides behind reconnects.

h2 takes the connection as closed at the first GOAWAY, while a gRPC server goes on serving the
open streams through its grace; so every frame's header is also read here, before h2, and what
follows a GOAWAY is seen as frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import h2.config
import h2.connection
import h2.events
import h2.exceptions
from google.protobuf.message import Message

_HEADER = struct.Struct(">3sBBI")
DATA, HEADERS, RST_STREAM, GOAWAY = 0x0, 0x1, 0x3, 0x7
END_STREAM = 0x1


@dataclass(frozen=True)
class Frame:
    kind: int
    flags: int
    stream_id: int
    payload: bytes

    @property
    def goaway(self) -> tuple[int, bytes]:
        """A GOAWAY's error code and debug data."""
        (code,) = struct.unpack(">I", self.payload[4:8])
        return code, self.payload[8:]


def grpc_frame(message: Message) -> bytes:
    payload = message.SerializeToString()
    return struct.pack(">?I", False, len(payload)) + payload


class RawConnection:
    """One HTTP/2 connection to `host:port`; every event received is kept in `events`."""

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.events: list[h2.events.Event] = []
        self.frames: list[Frame] = []
        self.closed = asyncio.Event()
        self._changed = asyncio.Event()
        self._buffer = b""
        self._h2_done = False

    async def __aenter__(self) -> Self:
        self._reader, self._writer = await asyncio.open_connection(*self._address)
        self._h2.initiate_connection()
        await self._flush()
        self._reading = asyncio.create_task(self._read())
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._reading.cancel()
        self._writer.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await self._writer.wait_closed()

    async def _flush(self) -> None:
        self._writer.write(self._h2.data_to_send())
        await self._writer.drain()

    async def _read(self) -> None:
        try:
            while data := await self._reader.read(65536):
                self._split(data)
                if not self._h2_done:
                    try:
                        self.events.extend(self._h2.receive_data(data))
                        self._writer.write(self._h2.data_to_send())
                    except h2.exceptions.ProtocolError:
                        self._h2_done = True  # past a GOAWAY: frames only
                self._changed.set()
        except ConnectionError:
            pass
        finally:
            self.closed.set()
            self._changed.set()

    def _split(self, data: bytes) -> None:
        buffer = self._buffer + data
        while len(buffer) >= _HEADER.size:
            length_bytes, kind, flags, stream_id = _HEADER.unpack_from(buffer)
            length = int.from_bytes(length_bytes, "big")
            if len(buffer) < _HEADER.size + length:
                break
            payload = buffer[_HEADER.size : _HEADER.size + length]
            self.frames.append(Frame(kind, flags, stream_id & 0x7FFFFFFF, payload))
            buffer = buffer[_HEADER.size + length :]
        self._buffer = buffer

    async def wait_for_frame(
        self,
        found: Callable[[Frame], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - bounds the whole wait
    ) -> Frame:
        """The first frame received (so far or later) for which `found` is true."""
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.frames:
                    if found(frame):
                        return frame
                if self.closed.is_set():
                    raise ConnectionError("the connection closed")
                self._changed.clear()
                await self._changed.wait()

    async def wait_for(
        self,
        found: Callable[[h2.events.Event], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - bounds the whole wait
    ) -> h2.events.Event:
        """The first event received (so far or later) for which `found` is true."""
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events:
                    if found(event):
                        return event
                if self.closed.is_set():
                    raise ConnectionError("the connection closed")
                self._changed.clear()
                await self._changed.wait()

    async def ping(self, opaque: bytes) -> None:
        self._h2.ping(opaque)
        await self._flush()

    async def open_stream(self, method: str, request: Message) -> int:
        """Start a gRPC call of `method` with one request; the stream stays open for writing."""
        stream_id: int = self._h2.get_next_available_stream_id()
        host, port = self._address
        self._h2.send_headers(
            stream_id,
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", method),
                (":authority", f"{host}:{port}"),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            ],
        )
        self._h2.send_data(stream_id, grpc_frame(request))
        await self._flush()
        return stream_id

    def stream_ended(self, stream_id: int) -> bool:
        return any(
            frame.stream_id == stream_id
            and (frame.kind == RST_STREAM or (frame.kind in {DATA, HEADERS} and frame.flags & 1))
            for frame in self.frames
        )
