"""A fake Twilio Calls resource: create, fetch and update, with Twilio's error codes.

Shapes from twilio.com/docs/voice/api/call-resource and the SDK's `CallInstance`; errors are
`{"code", "message", "more_info", "status"}` with the codes of twilio.com/docs/api/errors.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.fakes.call_book import (
    FORBIDDEN_NUMBER,
    INVALID_NUMBER,
    OWNED_NUMBER,
    UNREACHABLE_NUMBER,
    CallBook,
    FakeCall,
    answer,
    form_of,
    hex_id,
)
from tests.fakes.server import ROUTE_MATCH, FakeServer
from tests.fakes.telephony_accounts import TWILIO_ACCOUNT_SID, basic_password

CALLS_PATH = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Calls.json"
_CALL_PATH = re.compile(rf"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Calls/([^/]+)\.json")
_FINISHED = {"completed", "canceled", "failed", "busy", "no-answer"}


def twilio_error(status: int, code: int, shown: str = "") -> web.Response:
    message = f"error {code}" + (f": {shown}" if shown else "")
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return answer(
        status, {"code": code, "message": message, "more_info": more_info, "status": status}
    )


def resource(call: FakeCall) -> dict[str, Any]:
    finished = call.status in _FINISHED
    return {
        "sid": call.call_id,
        "account_sid": TWILIO_ACCOUNT_SID,
        "to": call.to_number,
        "from": call.from_number,
        "status": call.status,
        "direction": "outbound-api",
        "start_time": None if call.status == "queued" else "Mon, 05 Jan 2026 10:00:00 +0000",
        "end_time": "Mon, 05 Jan 2026 10:01:05 +0000" if finished else None,
        "duration": "65" if finished else None,
        "date_created": "Mon, 05 Jan 2026 09:59:59 +0000",
        "uri": f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Calls/{call.call_id}.json",
    }


class TwilioCallsFake:
    provider = "twilio"

    def __init__(self, accepted: set[str]) -> None:
        self.book = CallBook(hex_id("CA"))
        self._accepted = accepted
        self._read_password = basic_password(TWILIO_ACCOUNT_SID)

    def install(self, server: FakeServer) -> None:
        self._server = server
        server.route("POST", CALLS_PATH, self._create)
        server.route("GET", _CALL_PATH, self._fetch)
        server.route("POST", _CALL_PATH, self._update)

    def _refused(self, request: web.Request) -> web.Response | None:
        presented = self._read_password(request)
        if presented in self._accepted:
            return None
        return twilio_error(401, 20003, presented if self._server.echo_credentials else "")

    async def _create(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        form = await form_of(request)
        to, origin = form.get("To", ""), form.get("From", "")
        if sum(name in form for name in ("Url", "Twiml", "ApplicationSid")) != 1:
            return twilio_error(400, 21205)
        problems = {INVALID_NUMBER: 21211, UNREACHABLE_NUMBER: 21214, FORBIDDEN_NUMBER: 21215}
        if to in problems:
            return twilio_error(400, problems[to])
        if origin == INVALID_NUMBER:
            return twilio_error(400, 21212)
        if origin != OWNED_NUMBER:
            return twilio_error(400, 21210)
        call = self.book.open(origin, to, "queued", form)
        return answer(201, resource(call))

    def _call_of(self, request: web.Request) -> FakeCall | None:
        return self.book.calls.get(request[ROUTE_MATCH].group(1))

    async def _fetch(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None:
            return twilio_error(404, 20404)
        return answer(200, resource(call))

    async def _update(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None:
            return twilio_error(404, 20404)
        form = await form_of(request)
        call.actions.append(form)
        if form.get("Status") == "completed":
            if call.status in ("queued", "ringing"):
                call.status = "canceled"
            elif call.status == "in-progress":
                call.status = "completed"
            return answer(200, resource(call))
        if call.status != "in-progress":
            return twilio_error(400, 21220)
        return answer(200, resource(call))
