"""A fast fake OpenAI for the benchmark: answers from prebuilt bytes over raw asyncio.

It serves `POST /v1/chat/completions` (a stream of `--chunks` text chunks, then finish, usage
and `[DONE]`, each written separately with chunked transfer encoding) and `POST /v1/embeddings`
(one base64 vector of `--dimensions` floats per input), with keep-alive. Its own cost per
stream is a few tens of microseconds, and the benchmark reports it. Prints `{"port": N}`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import struct
import sys

_CHUNK_ID = "chatcmpl-bench0000000000000000000000"
_MODEL = "gpt-4o-mini-2024-07-18"


def _event(payload: object) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    body = f"data: {data}\n\n".encode()
    return f"{len(body):x}\r\n".encode() + body + b"\r\n"


def _chunk(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {
        "id": _CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1755137921,
        "model": _MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        "usage": None,
    }


def chat_stream(chunks: int) -> list[bytes]:
    """The answer's pieces: headers, then one piece per event, then the terminating chunk."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"transfer-encoding: chunked\r\nx-request-id: req_bench\r\n\r\n"
    )
    usage = {
        "id": _CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1755137921,
        "model": _MODEL,
        "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": 12 + chunks},
    }
    events = [_event(_chunk({"role": "assistant", "content": ""}))]
    events += [_event(_chunk({"content": f" word{number}"})) for number in range(chunks)]
    events += [_event(_chunk({}, "stop")), _event(usage), _event("[DONE]"), b"0\r\n\r\n"]
    events[0] = head + events[0]
    return events


def embeddings_answer(inputs: int, dimensions: int) -> bytes:
    vector = base64.b64encode(struct.pack(f"<{dimensions}f", *([0.125] * dimensions))).decode()
    body = json.dumps(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": index, "embedding": vector}
                for index in range(inputs)
            ],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 5 * inputs, "total_tokens": 5 * inputs},
        }
    ).encode()
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n".encode()
        + b"x-request-id: req_bench\r\n\r\n"
    )
    return head + body


class UpstreamProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, one request at a time per connection, answers from prebuilt bytes."""

    def __init__(self, chat: list[bytes], embeddings: bytes, interval: float) -> None:
        self._chat = chat
        self._embeddings = embeddings
        self._interval = interval
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            head_end = self._buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self._buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            end = head_end + 4 + length
            if len(self._buffer) < end:
                return
            self._buffer = self._buffer[end:]
            self._answer(head.split(" ", 2)[1])

    def _answer(self, path: str) -> None:
        transport = self._transport
        if transport is None:
            return
        if path.endswith("/embeddings"):
            transport.write(self._embeddings)
        elif self._interval:
            asyncio.get_running_loop().create_task(self._paced(transport))
        else:
            for piece in self._chat:
                transport.write(piece)

    async def _paced(self, transport: asyncio.Transport) -> None:
        for piece in self._chat:
            if transport.is_closing():
                return
            transport.write(piece)
            await asyncio.sleep(self._interval)


async def serve(arguments: argparse.Namespace) -> None:
    chat = chat_stream(arguments.chunks)
    embeddings = embeddings_answer(1, arguments.dimensions)
    interval = arguments.interval_ms / 1000
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: UpstreamProtocol(chat, embeddings, interval), "127.0.0.1", 0, backlog=1024
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--dimensions", type=int, default=1536)
    parser.add_argument("--interval-ms", type=float, default=0.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
