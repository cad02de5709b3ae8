"""AWS event-stream frames for fakes: encoded here with `zlib.crc32`, decoded by the service.

A fixture (`tests/fixtures/bedrock/<scenario>.frames`) lists one frame per line as
`<message type> <name> <JSON payload>`: `event contentBlockDelta {...}`, `exception
throttlingException {"message": ...}`, or `error <code> <message>` for an unmodeled error
(headers only). Lines starting with `#` are comments. Each frame is encoded with the headers
Bedrock sends (`:event-type` or `:exception-type`, `:content-type`, `:message-type`).
"""

from __future__ import annotations

import struct
import zlib
from functools import cache
from pathlib import Path


def _string_header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(encoded_name))
        + encoded_name
        + b"\x07"
        + struct.pack("!H", len(encoded_value))
        + encoded_value
    )


def encode_frame(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    """One frame: prelude, prelude CRC, headers, payload, message CRC."""
    header_bytes = b"".join(_string_header(name, value) for name, value in headers)
    prelude = struct.pack("!II", 12 + len(header_bytes) + len(payload) + 4, len(header_bytes))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + header_bytes + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event_frame(name: str, payload: bytes) -> bytes:
    return encode_frame(
        [(":event-type", name), (":content-type", "application/json"), (":message-type", "event")],
        payload,
    )


def exception_frame(name: str, payload: bytes) -> bytes:
    headers = [
        (":exception-type", name),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    ]
    return encode_frame(headers, payload)


def error_frame(code: str, message: str) -> bytes:
    headers = [(":error-code", code), (":error-message", message), (":message-type", "error")]
    return encode_frame(headers, b"")


def frame_of_line(line: str) -> bytes:
    message_type, name, rest = line.split(" ", 2)
    if message_type == "event":
        return event_frame(name, rest.encode())
    if message_type == "exception":
        return exception_frame(name, rest.encode())
    if message_type == "error":
        return error_frame(name, rest)
    raise ValueError(f"unknown frame type {message_type!r}")


@cache
def read_frames(path: Path) -> tuple[bytes, ...]:
    """The encoded frames of a `.frames` fixture, in order."""
    lines = path.read_text().splitlines()
    return tuple(frame_of_line(line) for line in lines if line.strip() and not line.startswith("#"))
