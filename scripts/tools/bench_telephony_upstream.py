"""A fast fake of the telephony providers' call creation for `scripts/bench --telephony-calls`.

Answers Twilio's `POST …/Calls.json` (201, a queued call), Vonage's `POST /v1/calls` (201,
started) and Telnyx's `POST /v2/calls` (200, dialing) at once with a fixed call, reading the
whole request first; no key is checked (the service's own requests and the direct ones cost the
fake the same). Prints `{"port": N}`, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

TWILIO_CALL = {
    "sid": "CA" + "0" * 32,
    "to": "+14155550123",
    "from": "+15005550006",
    "status": "queued",
    "direction": "outbound-api",
}
VONAGE_CALL = {
    "uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356",
    "status": "started",
    "direction": "outbound",
    "conversation_uuid": "CON-f972836a-550f-45fa-956c-12a2ab5b7d22",
}
TELNYX_CALL = {
    "data": {
        "call_control_id": "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg",
        "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
        "call_session_id": "428c31b6-abf3-4bcb-b7f5-5013ef9657c1",
        "is_alive": False,
        "record_type": "call",
    }
}


def _answer(body: object, status: int) -> Callable[[web.Request], Awaitable[web.Response]]:
    text = json.dumps(body)

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, text=text, content_type="application/json")

    return handle


async def serve() -> None:
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Calls.json", _answer(TWILIO_CALL, 201))
    app.router.add_post("/v1/calls", _answer(VONAGE_CALL, 201))
    app.router.add_post("/v2/calls", _answer(TELNYX_CALL, 200))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    sys.stdout.write(json.dumps({"port": runner.addresses[0][1]}) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())
