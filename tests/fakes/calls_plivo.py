"""A fake Plivo Call API: create, live / queued / finished lookups, transfer, audio streams,
hang-up and cancel. Shapes from the SDK's fixtures and resources (plivo/plivo-python); errors
are a status with `{"api_id", "error"}`, 403 on a call the account may not make."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.fakes.call_book import (
    FORBIDDEN_NUMBER,
    INVALID_NUMBER,
    CallBook,
    FakeCall,
    answer,
    json_of,
    uuid_id,
)
from tests.fakes.server import ROUTE_MATCH, FakeServer
from tests.fakes.telephony_accounts import PLIVO_AUTH_ID, basic_password

ROOT = f"/v1/Account/{PLIVO_AUTH_ID}"
CALLS_PATH = f"{ROOT}/Call/"
_CALL_PATH = re.compile(rf"{ROOT}/Call/([^/]+)/")
_STREAM_PATH = re.compile(rf"{ROOT}/Call/([^/]+)/Stream/")
_REQUEST_PATH = re.compile(rf"{ROOT}/Request/([^/]+)/")
_LIVE = {"ringing", "in-progress"}
API_ID = "97ceeb52-58b6-11e1-86da-77300b68f8bb"


def plivo_error(status: int, text: str) -> web.Response:
    return answer(status, {"api_id": API_ID, "error": text})


class PlivoCallsFake:
    provider = "plivo"

    def __init__(self, accepted: set[str]) -> None:
        self.book = CallBook(uuid_id)
        self._accepted = accepted
        self._read_password = basic_password(PLIVO_AUTH_ID)

    def install(self, server: FakeServer) -> None:
        self._server = server
        server.route("POST", CALLS_PATH, self._create)
        server.route("POST", _STREAM_PATH, self._stream)
        server.route("GET", _CALL_PATH, self._fetch)
        server.route("POST", _CALL_PATH, self._transfer)
        server.route("DELETE", _CALL_PATH, self._hang_up)
        server.route("DELETE", _REQUEST_PATH, self._cancel)

    def _refused(self, request: web.Request) -> web.Response | None:
        presented = self._read_password(request)
        if presented in self._accepted:
            return None
        shown = presented if self._server.echo_credentials else ""
        return plivo_error(401, "authentication failed " + shown)

    async def _create(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        body = await json_of(request)
        if not body.get("answer_url"):
            return plivo_error(400, "answer_url is required")
        if body.get("to") == INVALID_NUMBER:
            return plivo_error(400, "invalid destination number")
        if body.get("to") == FORBIDDEN_NUMBER:
            return plivo_error(403, "geo permissions")
        call = self.book.open(body["from"], body["to"], "queued", body)
        return answer(
            201, {"message": "call fired", "request_uuid": call.call_id, "api_id": API_ID}
        )

    def _call_of(self, request: web.Request) -> FakeCall | None:
        return self.book.calls.get(request[ROUTE_MATCH].group(1))

    async def _fetch(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        wanted = request.query.get("status")
        if call is not None and wanted == "live" and call.status in _LIVE:
            return answer(200, _live(call))
        if call is not None and wanted == "queued" and call.status == "queued":
            return answer(200, _live(call))
        if call is not None and wanted is None and call.status not in (_LIVE | {"queued"}):
            return answer(200, _record(call))
        return plivo_error(404, "not found")

    async def _transfer(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None or call.status not in _LIVE:
            return plivo_error(404, "not found")
        call.actions.append(await json_of(request))
        return answer(202, {"message": "call transferred", "api_id": API_ID})

    async def _stream(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None or call.status != "in-progress":
            return plivo_error(404, "not found")
        call.actions.append({"stream": await json_of(request)})
        return answer(
            202,
            {
                "api_id": API_ID,
                "message": "audio streaming started",
                "stream_id": "7ec4a1cc-4ef6-4bd2-9c8d-7b3e0c25b6cd",
            },
        )

    async def _hang_up(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None or call.status not in _LIVE:
            return plivo_error(404, "not found")
        call.actions.append({"hangup": True})
        call.status = "completed"
        return answer(204)

    async def _cancel(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None or call.status != "queued":
            return plivo_error(404, "not found")
        call.actions.append({"cancel": True})
        call.status = "canceled"
        return answer(204)


def _live(call: FakeCall) -> dict[str, Any]:
    return {
        "api_id": API_ID,
        "call_status": call.status,
        "call_uuid": call.call_id,
        "caller_name": "",
        "direction": "outbound",
        "from": call.from_number,
        "request_uuid": call.call_id,
        "session_start": "2026-01-05 10:00:00.050872",
        "to": call.to_number,
    }


def _record(call: FakeCall) -> dict[str, Any]:
    answered = call.status == "completed"
    return {
        "answer_time": "2026-01-05 15:30:05+05:30" if answered else None,
        "api_id": API_ID,
        "bill_duration": 60 if answered else 0,
        "call_direction": "outbound",
        "call_duration": 60 if answered else 0,
        "call_uuid": call.call_id,
        "end_time": "2026-01-05 15:31:05+05:30",
        "from_number": call.from_number,
        "initiation_time": "2026-01-05 15:30:00+05:30",
        "parent_call_uuid": None,
        "to_number": call.to_number,
        "total_amount": "0.00000",
        "total_rate": "0.03570",
    }
