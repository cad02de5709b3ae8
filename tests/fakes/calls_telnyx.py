"""A fake Telnyx Call Control API: dial, status and the hangup / transfer / streaming_start
commands. Shapes from the SDK's types (`call_dial_response`, `call_retrieve_status_response`);
errors are `{"errors":[{"code", "title", "detail"}]}` (developers.telnyx.com api-errors)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from tests.fakes.call_book import INVALID_NUMBER, CallBook, FakeCall, answer, json_of
from tests.fakes.provider_apis import bearer_key
from tests.fakes.server import ROUTE_MATCH, FakeServer

CONNECTION_ID = "1684641123236054244"
CALLS_PATH = "/v2/calls"
_CALL_PATH = re.compile(r"/v2/calls/([^/]+)")
_ACTION_PATH = re.compile(r"/v2/calls/([^/]+)/actions/(hangup|transfer|streaming_start)")


def telnyx_error(status: int, code: str, title: str, detail: str = "") -> web.Response:
    return answer(status, {"errors": [{"code": code, "title": title, "detail": detail}]})


def _control_id() -> str:
    return "v3:" + secrets.token_urlsafe(24)


class TelnyxCallsFake:
    provider = "telnyx"

    def __init__(self, accepted: set[str]) -> None:
        self.book = CallBook(_control_id)
        self._accepted = accepted

    def install(self, server: FakeServer) -> None:
        self._server = server
        server.route("POST", CALLS_PATH, self._dial)
        server.route("POST", _ACTION_PATH, self._command)
        server.route("GET", _CALL_PATH, self._status)

    def _refused(self, request: web.Request) -> web.Response | None:
        presented = bearer_key(request)
        if presented in self._accepted:
            return None
        shown = presented if self._server.echo_credentials else ""
        return telnyx_error(401, "10009", "Authentication failed", shown)

    async def _dial(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        body = await json_of(request)
        if body.get("connection_id") != CONNECTION_ID:
            return telnyx_error(422, "10013", "Missing association")
        if not str(body.get("to", "")).startswith("+"):
            return telnyx_error(422, "10016", "Phone number must be in +E.164 format")
        if body.get("to") == INVALID_NUMBER:
            return telnyx_error(422, "10002", "Invalid phone number")
        call = self.book.open(body["from"], body["to"], "dialing", body)
        return answer(200, {"data": _data(call)})

    def _call_of(self, request: web.Request) -> FakeCall | None:
        return self.book.calls.get(request[ROUTE_MATCH].group(1))

    async def _status(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None:
            return telnyx_error(404, "10005", "Resource not found")
        return answer(200, {"data": _data(call)})

    async def _command(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None:
            return telnyx_error(404, "10005", "Resource not found")
        if call.status == "ended":
            return telnyx_error(422, "90018", "Call has already ended")
        action = request[ROUTE_MATCH].group(2)
        call.actions.append({action: await json_of(request)})
        if action == "hangup":
            call.status = "ended"
        return answer(200, {"data": {"result": "ok"}})


def _data(call: FakeCall) -> dict[str, Any]:
    data: dict[str, Any] = {
        "call_control_id": call.call_id,
        "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
        "call_session_id": "428c31b6-abf3-4bcb-b7f5-5013ef9657c1",
        "is_alive": call.status == "alive",
        "record_type": "call",
    }
    if call.status != "dialing":
        data["start_time"] = "2026-01-05T10:00:00Z"
    if call.status == "ended":
        data["end_time"] = "2026-01-05T10:01:05Z"
        data["call_duration"] = 65
    return data
