"""A fake Exotel Voice v1 API: connect a number to an app flow, and call details.

Shapes from developer.exotel.com (connect-two-numbers, call-details); errors are
`{"RestException": {"Status", "Message", "Code"}}`.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.fakes.call_book import INVALID_NUMBER, CallBook, FakeCall, answer, form_of, hex_id
from tests.fakes.server import ROUTE_MATCH, FakeServer
from tests.fakes.telephony_accounts import EXOTEL_ACCOUNT_SID, EXOTEL_API_KEY, basic_password

ROOT = f"/v1/Accounts/{EXOTEL_ACCOUNT_SID}"
CONNECT_PATH = f"{ROOT}/Calls/connect.json"
_CALL_PATH = re.compile(rf"{ROOT}/Calls/([^/]+)\.json")


def exotel_error(status: int, message: str, code: int | None = None) -> web.Response:
    exception: dict[str, Any] = {"Status": status, "Message": message}
    if code is not None:
        exception["Code"] = code
    return answer(status, {"RestException": exception})


class ExotelCallsFake:
    provider = "exotel"

    def __init__(self, accepted: set[str]) -> None:
        self.book = CallBook(hex_id())
        self._accepted = accepted
        self._read_password = basic_password(EXOTEL_API_KEY)

    def install(self, server: FakeServer) -> None:
        self._server = server
        server.route("POST", CONNECT_PATH, self._connect)
        server.route("GET", _CALL_PATH, self._details)

    def _refused(self, request: web.Request) -> web.Response | None:
        presented = self._read_password(request)
        if presented in self._accepted:
            return None
        shown = presented if self._server.echo_credentials else ""
        return exotel_error(401, "Authentication failed. Invalid API Key or Token. " + shown)

    async def _connect(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        form = await form_of(request)
        if form.get("From") == INVALID_NUMBER:
            return exotel_error(400, "Invalid From number", 34001)
        call = self.book.open(form["CallerId"], form["From"], "in-progress", form)
        return answer(200, {"Call": _call(call)})

    async def _details(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self.book.calls.get(request[ROUTE_MATCH].group(1))
        if call is None:
            return exotel_error(404, "Call not found")
        return answer(200, {"Call": _call(call)})


def _call(call: FakeCall) -> dict[str, Any]:
    finished = call.status not in ("queued", "in-progress")
    return {
        "Sid": call.call_id,
        "ParentCallSid": None,
        "DateCreated": "2026-01-05 15:30:00",
        "DateUpdated": "2026-01-05 15:30:00",
        "AccountSid": EXOTEL_ACCOUNT_SID,
        # Exotel calls `From` first; the ExoPhone it shows is the call's number.
        "To": call.from_number,
        "From": call.to_number,
        "PhoneNumberSid": call.from_number,
        "Status": call.status,
        "StartTime": "2026-01-05 15:30:00",
        "EndTime": "2026-01-05 15:31:05" if finished else None,
        "Duration": 65 if finished else None,
        "Price": None,
        "Direction": "outbound-api",
        "AnsweredBy": None,
        "RecordingUrl": None,
    }
