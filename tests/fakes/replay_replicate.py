"""Replicate's prediction flow on a replay server.

Creating a prediction takes the next scripted reply: an `.http` fixture is the answer to the
creation itself (401, 429, 422…); a stream fixture makes a prediction (201, as Replicate
answers) whose `urls.stream` plays that fixture. `urls.get` answers the finished prediction
with its metrics (`prediction.json`), `urls.cancel` records the cancellation. A fixture named
`*.no_stream.json` is a prediction answer without `urls.stream` (a model that cannot stream).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.server import ROUTE_MATCH, json_response

if TYPE_CHECKING:
    from tests.fakes.replay import ReplayServer, Reply

PREDICTION_PATHS = re.compile(r"/v1/predictions/([a-z0-9]+)(?:/stream|/cancel)?")
MODEL = "meta/meta-llama-3-8b-instruct"
# Every prediction has the id of the one in Replicate's recorded streaming cassette.
PREDICTION_ID = "4awn473bsrztjzlx2b6ufoxkkm"
VERSION = "5a6809ca6288247d06daf6365557e5e429063f32a21146b2a807c682652136b8"


class PredictionFlow:
    """The routes of Replicate's predictions, sharing the replay server's script."""

    def __init__(self, replay: ReplayServer) -> None:
        self._replay = replay
        # Replies of the predictions created and not yet streamed, oldest first.
        self._streams: deque[Reply] = deque()
        self.cancelled: list[str] = []
        self.cancel_arrived = asyncio.Event()
        fake = replay.fake
        fake.route("GET", re.compile(r"/v1/predictions/([a-z0-9]+)/stream"), self._stream)
        fake.route("POST", re.compile(r"/v1/predictions/([a-z0-9]+)/cancel"), self._cancel)
        fake.route("GET", re.compile(r"/v1/predictions/([a-z0-9]+)"), self._get)

    async def create(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        if reply.fixture.endswith(".http"):
            return await self._replay.play_reply(request, reply)
        answer = self._prediction(PREDICTION_ID, "starting")
        if reply.fixture.endswith(".no_stream.json"):
            del answer["urls"]["stream"]  # type: ignore[attr-defined]
        else:
            assert self._replay.fixture_file(reply.fixture).exists(), reply.fixture
            self._streams.append(reply)
        return json_response(201, answer)

    def _prediction(self, prediction_id: str, status: str) -> dict[str, object]:
        base = self._replay.fake.url
        return {
            "id": prediction_id,
            "model": MODEL,
            "version": VERSION,
            "status": status,
            "stream": True,
            "urls": {
                "cancel": f"{base}/v1/predictions/{prediction_id}/cancel",
                "get": f"{base}/v1/predictions/{prediction_id}",
                "stream": f"{base}/v1/predictions/{prediction_id}/stream",
            },
        }

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        if not self._streams:
            return json_response(404, {"title": "Not found", "status": 404})
        return await self._replay.stream_fixture(request, self._streams.popleft())

    async def _get(self, request: web.Request) -> web.StreamResponse:
        answer = self._prediction(request[ROUTE_MATCH].group(1), "succeeded")
        recorded = json.loads(self._replay.fixture_file("prediction.json").read_text())
        answer.update(recorded)
        return json_response(200, answer)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        prediction_id = request[ROUTE_MATCH].group(1)
        self.cancelled.append(prediction_id)
        self.cancel_arrived.set()
        self._replay.went_away.set()
        return json_response(200, self._prediction(prediction_id, "canceled"))
