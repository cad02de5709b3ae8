"""A demo provider on loopback: answers as OpenAI, Anthropic, Deepgram and Twilio do, offline.

It lets the README's examples run on a machine without provider keys or network: credentials
point at it through their `base_url`, which development mode allows on loopback. Every answer
is the same short fixed text (or a tone, for speech), framed byte for byte as the real
provider frames it, so the service's own provider code reads it as it reads the real one.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import web

from scripts.tools import (
    demo_provider_anthropic,
    demo_provider_listen,
    demo_provider_openai,
    demo_provider_speak,
    demo_provider_twilio,
)
from scripts.tools.demo_provider_wire import ANSWER, PACE, REJECTED_KEY_PREFIX

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
PORT_VARIABLE = "DEMO_PROVIDER_PORT"

_SERVED = f"""\
Served on http://{HOST}:PORT (one port for every format):
  OpenAI      POST /v1/chat/completions   streamed (SSE, usage chunk, [DONE]) or whole
              POST /v1/embeddings         deterministic unit vectors (float or base64)
              GET  /v1/models             key check (Authorization: Bearer <key>)
  Anthropic   POST /v1/messages           streamed (message_start ... message_stop) or whole;
                                          text up to the last cache_control breakpoint is
                                          reported as cache reads
              GET  /v1/models             key check (x-api-key and anthropic-version)
  Deepgram    GET  /v1/projects           key check (Authorization: Token <key>)
              POST /v1/speak              a 440 Hz tone, 60 ms a character (linear16, mulaw,
                                          alaw; raw with container=none, else WAV)
              GET  /v1/speak              the speech WebSocket (Speak, Flush, Clear, Close)
              GET  /v1/listen             the live transcription WebSocket (Results,
                                          Metadata; SpeechStarted, interim results and
                                          UtteranceEnd when asked for)
  Twilio      GET  /2010-04-01/Accounts/{{account}}.json
                                          key check (Basic account SID and auth token)
              POST /2010-04-01/Accounts/{{account}}/Calls.json
                                          a call accepted as queued (nothing is dialled)
              GET  /2010-04-01/Accounts/{{account}}/Calls/{{call}}.json
                                          the call, in progress once read
              POST /2010-04-01/Accounts/{{account}}/Calls/{{call}}.json
                                          Status=completed ends it

Point a credential at it with its base_url: openai-compatible or openai
http://{HOST}:PORT/v1, anthropic, deepgram and twilio http://{HOST}:PORT.
Every chat answers "{ANSWER}" and every transcript hears it.
Any non-empty key is accepted; a request without one, or with a key starting
with "{REJECTED_KEY_PREFIX}", is refused with the provider's own 401.
"""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _models(request: web.Request) -> web.Response:
    """`GET /v1/models` is both OpenAI's and Anthropic's: Anthropic's carries its version."""
    if "anthropic-version" in request.headers or "x-api-key" in request.headers:
        return await demo_provider_anthropic.models(request)
    return await demo_provider_openai.models(request)


@web.middleware
async def _log_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    # The path only: a query string or a header could carry a key.
    response = await handler(request)
    print(f"{request.method} {request.path} {response.status}", flush=True)
    return response


def build_app(pace: float = 0.0) -> web.Application:
    app = web.Application(middlewares=[_log_request])
    app[PACE] = pace
    app.router.add_get("/v1/models", _models)
    demo_provider_openai.add_routes(app)
    demo_provider_anthropic.add_routes(app)
    app.router.add_get("/v1/projects", demo_provider_speak.projects)
    app.router.add_post("/v1/speak", demo_provider_speak.speak)
    app.router.add_get("/v1/speak", demo_provider_speak.speak_socket)
    app.router.add_get("/v1/listen", demo_provider_listen.listen)
    demo_provider_twilio.add_routes(app)
    return app


def _default_port() -> int:
    value = os.environ.get(PORT_VARIABLE, "")
    return int(value) if value.isdigit() else DEFAULT_PORT


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/demo-provider",
        description="Answers as OpenAI, Anthropic, Deepgram and Twilio do, on loopback, with a\n"
        "fixed answer, so the README's examples run without provider keys or network.",
        epilog=_SERVED,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_default_port(),
        help=f"port on {HOST}, 0 for a free one (default: ${PORT_VARIABLE}, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--port-file",
        type=Path,
        help="write the port listened on to this file once it accepts connections",
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="pause between the events of a streamed answer (default: none)",
    )
    return parser.parse_args(argv)


async def serve(port: int, port_file: Path | None = None, pace: float = 0.0) -> None:
    runner = web.AppRunner(build_app(pace), handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.TCPSite(runner, HOST, port).start()
        port = runner.addresses[0][1]  # the one chosen, for --port 0
        if port_file is not None:
            await asyncio.to_thread(port_file.write_text, str(port))
        print(
            f"demo provider: OpenAI, Anthropic, Deepgram and Twilio on http://{HOST}:{port}",
            flush=True,
        )
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        asyncio.run(serve(arguments.port, arguments.port_file, arguments.pace))
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(
            f"demo provider: {HOST}:{arguments.port} is already in use (another demo provider or "
            f"model server?); choose another port with --port or {PORT_VARIABLE}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
