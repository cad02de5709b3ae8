"""A fast fake OpenAI, Anthropic, Gemini and Bedrock for the benchmark: prebuilt bytes, asyncio.

It serves `POST /v1/chat/completions` (a stream of `--chunks` text chunks, then finish, usage
and `[DONE]`, each written separately with chunked transfer encoding), `POST /v1/messages` (the
same text as Anthropic streams it: `message_start`, a text block of `--chunks` deltas,
`message_delta`, `message_stop`), Gemini's `:streamGenerateContent` (the same text as its SSE
chunks), `POST /model/{id}/converse-stream` (the same text as Bedrock's
binary event-stream frames, CRCs computed here) and `POST /v1/embeddings` (one base64 vector of
`--dimensions` floats per input), with keep-alive. Its own cost per stream is a few tens of
microseconds, and the benchmark reports it. Prints `{"port": N}`.

Streams are sent at once (the fast mode) or paced as a model answers (the realistic mode): the
headers and the first event at once, the next event `--first-delay-ms` later (the first text of
OpenAI's stream), then one event every `--inter-delay-ms`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import struct
import sys
import zlib

_CHUNK_ID = "chatcmpl-bench0000000000000000000000"
_MODEL = "gpt-4o-mini-2024-07-18"
_CLAUDE = "claude-sonnet-4-5-20250929"


def _event(payload: object, name: str = "", newline: str = "\n") -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    body = (f"event: {name}{newline}" if name else "") + f"data: {data}{newline}{newline}"
    encoded = body.encode()
    return f"{len(encoded):x}\r\n".encode() + encoded + b"\r\n"


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


def _named(payload: dict[str, object]) -> bytes:
    return _event(payload, str(payload["type"]))


def anthropic_stream(chunks: int) -> list[bytes]:
    """The same answer as `chat_stream`, framed as Anthropic's named events."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"transfer-encoding: chunked\r\nrequest-id: req_bench\r\n\r\n"
    )
    usage = {"input_tokens": 12, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    message: dict[str, object] = {"id": "msg_bench", "type": "message", "role": "assistant"}
    message.update({"model": _CLAUDE, "content": [], "stop_reason": None, "usage": usage})
    block = {"type": "text", "text": ""}
    events = [
        _named({"type": "message_start", "message": message}),
        _named({"type": "content_block_start", "index": 0, "content_block": block}),
        _named({"type": "ping"}),
    ]
    events += [
        _named(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": f" word{number}"},
            }
        )
        for number in range(chunks)
    ]
    stop = {"stop_reason": "end_turn", "stop_sequence": None}
    events += [
        _named({"type": "content_block_stop", "index": 0}),
        _named({"type": "message_delta", "delta": stop, "usage": {"output_tokens": chunks}}),
        _named({"type": "message_stop"}),
        b"0\r\n\r\n",
    ]
    events[0] = head + events[0]
    return events


def _frame(event_type: str, payload: dict[str, object]) -> bytes:
    """One event-stream frame, as Bedrock frames its events (CRC32 of prelude and message)."""
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        headers += bytes([len(name)]) + name.encode() + b"\x07"
        headers += struct.pack("!H", len(value)) + value.encode()
    body = json.dumps({**payload, "p": "abcdefgh"}, separators=(",", ":")).encode()
    prelude = struct.pack("!II", 16 + len(headers) + len(body), len(headers))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + headers + body
    frame = message + struct.pack("!I", zlib.crc32(message))
    return f"{len(frame):x}\r\n".encode() + frame + b"\r\n"


def bedrock_stream(chunks: int) -> list[bytes]:
    """The same answer as `chat_stream`, as ConverseStream event-stream frames."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.amazon.eventstream\r\n"
        b"transfer-encoding: chunked\r\nx-amzn-RequestId: req-bench\r\n\r\n"
    )
    events = [_frame("messageStart", {"role": "assistant"})]
    events += [
        _frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": f" word{number}"}})
        for number in range(chunks)
    ]
    usage = {"inputTokens": 12, "outputTokens": chunks, "totalTokens": 12 + chunks}
    events += [
        _frame("contentBlockStop", {"contentBlockIndex": 0}),
        _frame("messageStop", {"stopReason": "end_turn"}),
        _frame("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}),
        b"0\r\n\r\n",
    ]
    events[0] = head + events[0]
    return events


def _gemini_chunk(text: str, finish: str | None = None) -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = finish
    chunk: dict[str, object] = {
        "candidates": [candidate],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "bench-response",
    }
    if finish:
        chunk["usageMetadata"] = {"promptTokenCount": 12, "candidatesTokenCount": 20}
    return chunk


def gemini_stream(chunks: int) -> list[bytes]:
    """The same answer framed as Gemini's `streamGenerateContent?alt=sse`: CRLF, no terminator."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    events = [_event(_gemini_chunk(f" word{number}"), newline="\r\n") for number in range(chunks)]
    events += [_event(_gemini_chunk("", "STOP"), newline="\r\n"), b"0\r\n\r\n"]
    events[0] = head + events[0]
    return events


def cohere_stream(chunks: int) -> list[bytes]:
    """The same answer as `chat_stream`, framed as Cohere v2's typed events."""
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    start: dict[str, object] = {"id": "cohere-bench", "type": "message-start", "delta": {}}
    events = [
        _named(start),
        _named({"type": "content-start", "index": 0, "delta": {"message": {"content": {}}}}),
    ]
    events += [
        _named(
            {
                "type": "content-delta",
                "index": 0,
                "delta": {"message": {"content": {"text": f" word{number}"}}},
            }
        )
        for number in range(chunks)
    ]
    usage = {"tokens": {"input_tokens": 12, "output_tokens": chunks}}
    events += [
        _named({"type": "content-end", "index": 0}),
        _named({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": usage}}),
        b"0\r\n\r\n",
    ]
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

    def __init__(
        self,
        chat: list[bytes],
        messages: list[bytes],
        gemini: list[bytes],
        frames: list[bytes],
        embeddings: bytes,
        pacing: tuple[float, float],
        cohere: list[bytes],
    ) -> None:
        self._chat = chat
        self._messages = messages
        self._gemini = gemini
        self._cohere = cohere
        self._frames = frames
        self._embeddings = embeddings
        self._first_delay, self._inter_delay = pacing
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
            return
        stream = self._chat
        if path.endswith("/messages"):
            stream = self._messages
        elif ":streamGenerateContent" in path:
            stream = self._gemini
        elif path.endswith("/v2/chat"):
            stream = self._cohere
        elif path.endswith("/converse-stream"):
            stream = self._frames
        if self._first_delay or self._inter_delay:
            asyncio.get_running_loop().create_task(self._paced(transport, stream))
        else:
            for piece in stream:
                transport.write(piece)

    async def _paced(self, transport: asyncio.Transport, stream: list[bytes]) -> None:
        transport.write(stream[0])
        delay = self._first_delay
        for piece in stream[1:]:
            await asyncio.sleep(delay)
            if transport.is_closing():
                return
            transport.write(piece)
            delay = self._inter_delay


async def serve(arguments: argparse.Namespace) -> None:
    chat = chat_stream(arguments.chunks)
    messages = anthropic_stream(arguments.chunks)
    gemini = gemini_stream(arguments.chunks)
    cohere = cohere_stream(arguments.chunks)
    frames = bedrock_stream(arguments.chunks)
    embeddings = embeddings_answer(1, arguments.dimensions)
    pacing = (arguments.first_delay_ms / 1000, arguments.inter_delay_ms / 1000)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: UpstreamProtocol(chat, messages, gemini, frames, embeddings, pacing, cohere),
        "127.0.0.1",
        0,
        backlog=1024,
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--dimensions", type=int, default=1536)
    parser.add_argument("--first-delay-ms", type=float, default=0.0)
    parser.add_argument("--inter-delay-ms", type=float, default=0.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
