"""The floor under the service's figures: the least a Python gRPC proxy of a stream can cost.

Serves `/integration.v1.LlmService/Chat` with none of the service's code: no caller token, no
credential, no egress policy, no bounds, no logging or metrics. Each call POSTs the request
body the benchmark's direct client sends to the fake upstream's chat route, over one shared
aiohttp session (keep-alive), reads the event stream with aiohttp's line iterator, parses each
`data:` line with `json.loads` and sends each piece of text as its own message, its bytes
written by hand as the service's `ChatChunk{text_delta}` would be; at the end it sends the two
messages the contract closes every answer with, `ChatChunk{usage}` with the provider's token
counts and `ChatChunk{finish}` with its finish reason and model, so both send the same
messages. That is grpc.aio, asyncio, aiohttp and one JSON parse per event, with nothing else:
what the service adds is its figures minus these (`./scripts/bench --floor`). Prints
`{"port": N}`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import grpc

from scripts.tools.bench_stalls import StallRecorder

_CHAT = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}


def _length_delimited(field_tag: bytes, payload: bytes) -> bytes:
    return field_tag + _varint(len(payload)) + payload


def _varint_field(field_tag: bytes, value: int) -> bytes:
    return field_tag + _varint(value)


def _varint(value: int) -> bytes:
    encoded = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        encoded.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(encoded)


def text_chunk(text: str) -> bytes:
    """`ChatChunk{text_delta: TextDelta{text}}` on the wire: both are field 1."""
    return _length_delimited(b"\x0a", _length_delimited(b"\x0a", text.encode()))


def usage_chunk(usage: dict[str, int]) -> bytes:
    """`ChatChunk{usage: Usage{input_tokens, output_tokens}}` (fields 3; 1 and 2)."""
    counts = _varint_field(b"\x08", int(usage.get("prompt_tokens", 0)))
    counts += _varint_field(b"\x10", int(usage.get("completion_tokens", 0)))
    return _length_delimited(b"\x1a", counts)


def finish_chunk(raw_reason: str, model: str) -> bytes:
    """`ChatChunk{finish: Finish{reason, raw_reason, model}}` (field 4; 1, 2 and 3)."""
    reason = _varint_field(b"\x08", 1 if raw_reason == "stop" else 5)
    finish = reason + _length_delimited(b"\x12", raw_reason.encode())
    return _length_delimited(b"\x22", finish + _length_delimited(b"\x1a", model.encode()))


async def serve(upstream_port: int, stall_file: str | None) -> None:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    url = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
    body = json.dumps(_CHAT).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}

    async def chat(
        _request: bytes, _context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        usage: dict[str, int] = {}
        raw_reason = model = ""
        async with session.post(url, data=body, headers=headers) as response:
            async for line in response.content:
                if not line.startswith(b"data: {"):
                    continue
                event = json.loads(line[6:])
                model = event.get("model") or model
                usage = event.get("usage") or usage
                for choice in event.get("choices") or ():
                    raw_reason = choice.get("finish_reason") or raw_reason
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text_chunk(text)
        yield usage_chunk(usage)
        yield finish_chunk(raw_reason, model)

    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        "Chat": grpc.unary_stream_rpc_method_handler(chat)
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("integration.v1.LlmService", handlers),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    if stall_file:
        # The same probe as the service's, so that both pay for it alike.
        StallRecorder().install(Path(stall_file))
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    try:
        await server.wait_for_termination()
    finally:
        await session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--stall-file", help="probe loop lag and GC pauses; SIGUSR1 writes them")
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.upstream_port, arguments.stall_file))


if __name__ == "__main__":
    main()
