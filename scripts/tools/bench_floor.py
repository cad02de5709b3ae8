"""The floor under the service's figures: the least a Python gRPC proxy of a stream can cost.

Serves `/integration.v1.LlmService/Chat` with none of the service's code: no caller token, no
credential, no egress policy, no bounds, no logging or metrics. Each call POSTs the request
body the benchmark's direct client sends to the fake upstream's chat route, over one shared
aiohttp session (keep-alive), reads the event stream with aiohttp's line iterator, parses each
`data:` line with `json.loads` and sends each piece of text as its own message, its bytes
written by hand as the service's `ChatChunk{text_delta}` would be. That is grpc.aio, asyncio,
aiohttp and one JSON parse per event, with nothing else: what the service adds is its
figures minus these (`./scripts/bench --floor`). Prints `{"port": N}`.
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
    size = len(payload)
    varint = bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        varint.append(byte | (0x80 if size else 0))
        if not size:
            return field_tag + bytes(varint) + payload


def text_chunk(text: str) -> bytes:
    """`ChatChunk{text_delta: TextDelta{text}}` on the wire: both are field 1."""
    return _length_delimited(b"\x0a", _length_delimited(b"\x0a", text.encode()))


async def serve(upstream_port: int, stall_file: str | None) -> None:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    url = f"http://127.0.0.1:{upstream_port}/v1/chat/completions"
    body = json.dumps(_CHAT).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer sk-bench"}

    async def chat(
        _request: bytes, _context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> AsyncIterator[bytes]:
        async with session.post(url, data=body, headers=headers) as response:
            async for line in response.content:
                if not line.startswith(b"data: {"):
                    continue
                for choice in json.loads(line[6:]).get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text_chunk(text)

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
