"""A provider that refuses every request at once, for the failover benchmark.

Answers each `POST` with a prebuilt HTTP status (429 with OpenAI's rate-limit headers by default,
`--status 503` for an overloaded provider) as soon as the request's body has arrived, keeping the
connection alive. Prints `{"port": N}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

_BODIES = {
    429: b'{"error":{"message":"Rate limit reached","type":"requests"}}',
    503: b'{"error":{"message":"The server is overloaded"}}',
}
_REASONS = {429: "Too Many Requests", 503: "Service Unavailable"}


def refusal(status: int) -> bytes:
    body = _BODIES[status]
    headers = [
        f"HTTP/1.1 {status} {_REASONS[status]}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "retry-after: 20",
        "x-ratelimit-remaining-requests: 0",
        "x-ratelimit-reset-requests: 20s",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


class RefusingProtocol(asyncio.Protocol):
    """Reads requests (headers, then `content-length` bytes of body) and refuses each one."""

    def __init__(self, answer: bytes) -> None:
        self._answer = answer
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self._buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            assert self._transport is not None
            self._transport.write(self._answer)


async def serve(status: int) -> None:
    answer = refusal(status)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: RefusingProtocol(answer), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--status", type=int, choices=sorted(_BODIES), default=429)
    asyncio.run(serve(parser.parse_args().status))


if __name__ == "__main__":
    main()
