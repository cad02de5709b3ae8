"""A slow OpenAI-compatible chat server on 127.0.0.1, for the image check.

Answers `POST /v1/chat/completions` with an event stream of WORDS text deltas, one every
PAUSE seconds, then a finish reason, usage and `[DONE]`: an answer that is still streaming when
the container is told to stop. Serves until killed. Usage: image_check_provider.py PORT_FILE;
the port it listens on is written to PORT_FILE.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

WORDS = 12
PAUSE = 0.3


def _event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
    body = {
        "id": "chatcmpl-image-check",
        "object": "chat.completion.chunk",
        "model": "image-check-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n".encode()


async def chat(request: web.Request) -> web.StreamResponse:
    await request.json()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(_event({"role": "assistant", "content": ""}))
    for index in range(WORDS):
        await asyncio.sleep(PAUSE)
        await response.write(_event({"content": f"word{index} "}))
    usage = {"prompt_tokens": 3, "completion_tokens": WORDS, "total_tokens": WORDS + 3}
    await response.write(_event({}, "stop", usage=usage))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def serve(listener: socket.socket) -> None:
    application = web.Application()
    application.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.SockSite(runner, listener).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    # Listening (connections queue) before the port is told, so a caller never finds it closed.
    listener = socket.create_server(("127.0.0.1", 0))
    Path(sys.argv[1]).write_text(str(listener.getsockname()[1]))
    asyncio.run(serve(listener))
