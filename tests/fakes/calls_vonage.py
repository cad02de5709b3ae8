"""A fake Vonage Voice API: create, fetch and modify calls, each request authenticated by an
RS256 JWT checked against the application's public key.

Shapes from developer.vonage.com/en/api/voice and the SDK's models; errors are RFC 7807 bodies
(developer.vonage.com/en/api-errors).
"""

from __future__ import annotations

import re
from typing import Any

import jwt
from aiohttp import web

from tests.fakes.call_book import (
    INVALID_NUMBER,
    CallBook,
    FakeCall,
    answer,
    json_of,
    uuid_id,
)
from tests.fakes.server import ROUTE_MATCH, FakeServer

CALLS_PATH = "/v1/calls"
_CALL_PATH = re.compile(r"/v1/calls/([^/]+)")
_FINISHED = {"completed", "cancelled", "failed", "busy", "timeout", "unanswered", "rejected"}
# The SDK's default lifetime: a token living longer than this is refused by the fake.
MAX_TOKEN_SECONDS = 15 * 60


def problem(status: int, code: str, title: str, detail: str = "") -> web.Response:
    body = {
        "type": f"https://developer.nexmo.com/api-errors#{code}",
        "title": title,
        "detail": detail,
        "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
    }
    response = answer(status, body)
    response.content_type = "application/problem+json"
    return response


def record(call: FakeCall) -> dict[str, Any]:
    finished = call.status in _FINISHED
    return {
        "uuid": call.call_id,
        "conversation_uuid": "CON-" + call.call_id,
        "to": {"type": "phone", "number": call.to_number},
        "from": {"type": "phone", "number": call.from_number},
        "status": call.status,
        "direction": "outbound",
        "rate": "0.01",
        "price": "0.02" if finished else None,
        "duration": "65" if finished else None,
        "start_time": "2026-01-05T10:00:00.000Z",
        "end_time": "2026-01-05T10:01:05.000Z" if finished else None,
        "network": "65512",
    }


class VonageCallsFake:
    provider = "vonage"

    def __init__(self, application_id: str, public_key_pem: str) -> None:
        self.book = CallBook(uuid_id)
        self.tokens: list[dict[str, Any]] = []
        # Every bearer token presented, accepted or not.
        self.presented: list[str] = []
        self._application_id = application_id
        self.public_key = public_key_pem

    def install(self, server: FakeServer) -> None:
        self._server = server
        server.route("POST", CALLS_PATH, self._create)
        server.route("GET", _CALL_PATH, self._fetch)
        server.route("PUT", _CALL_PATH, self._modify)

    def _refused(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.presented.append(token)
        try:
            claims = jwt.decode(token, self.public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            claims = None
        if (
            claims is None
            or claims.get("application_id") != self._application_id
            or not claims.get("jti")
            or int(claims["exp"]) - int(claims["iat"]) > MAX_TOKEN_SECONDS
        ):
            shown = token if self._server.echo_credentials else ""
            return problem(401, "unauthorized", "Unauthorized", shown)
        self.tokens.append(claims)
        return None

    async def _create(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        body = await json_of(request)
        to = body["to"][0].get("number", "") or body["to"][0].get("uri", "")
        if to == INVALID_NUMBER.removeprefix("+"):
            return problem(400, "bad-request", "Bad Request", "to is invalid")
        if ("ncco" in body) == ("answer_url" in body):
            return problem(400, "bad-request", "Bad Request", "give ncco or answer_url")
        call = self.book.open(body["from"]["number"], to, "started", body)
        return answer(
            201,
            {
                "uuid": call.call_id,
                "status": "started",
                "direction": "outbound",
                "conversation_uuid": "CON-" + call.call_id,
            },
        )

    def _call_of(self, request: web.Request) -> FakeCall | None:
        return self.book.calls.get(request[ROUTE_MATCH].group(1))

    async def _fetch(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None:
            return problem(404, "not-found", "Not Found")
        return answer(200, record(call))

    async def _modify(self, request: web.Request) -> web.Response:
        if (refusal := self._refused(request)) is not None:
            return refusal
        call = self._call_of(request)
        if call is None or call.status in _FINISHED:
            return problem(404, "not-found", "Not Found")
        body = await json_of(request)
        call.actions.append(body)
        if body.get("action") == "hangup":
            call.status = "completed"
        return answer(204)
