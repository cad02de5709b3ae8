"""The demo provider's Twilio: the account fetch and the Calls resource, with no telephone.

A call is accepted as Twilio accepts one (201, `queued`, a `CA…` sid) and kept in memory; a
fetch answers it `in-progress` once it has been asked for once before (as if answered), and
`Status=completed` ends it. Refusals are Twilio's own 401 with error 20003. Nothing is dialled
and the stream URL is never connected to: this only shows what the service sends and reads.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from urllib.parse import parse_qsl

from aiohttp import web

from scripts.tools.demo_provider_wire import key_problem, scheme_value

ACCOUNT_PATH = "/2010-04-01/Accounts/{account}.json"
CALLS_PATH = "/2010-04-01/Accounts/{account}/Calls.json"
CALL_PATH = "/2010-04-01/Accounts/{account}/Calls/{call}.json"
_CALLS = web.AppKey("twilio_calls", dict[str, dict[str, str]])


def _refusal(request: web.Request) -> web.Response | None:
    try:
        pair = base64.b64decode(scheme_value(request.headers.get("Authorization", ""), "Basic"))
        user, _, password = pair.decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, password = "", ""
    problem = key_problem(password) if user else "no account SID was sent"
    if problem is None:
        return None
    body = {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    return web.json_response(body, status=401)


def _resource(account: str, sid: str, call: dict[str, str]) -> dict[str, object]:
    return {
        "sid": sid,
        "account_sid": account,
        "to": call["to"],
        "from": call["from"],
        "status": call["status"],
        "direction": "outbound-api",
        "start_time": None,
        "end_time": None,
        "duration": None,
        "uri": CALL_PATH.format(account=account, call=sid),
    }


async def account(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    sid = request.match_info["account"]
    return web.json_response({"sid": sid, "status": "active", "type": "Full"})


async def create(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    form = dict(parse_qsl((await request.read()).decode()))
    if not form.get("To") or not form.get("From"):
        body = {"code": 21201, "message": "No 'To' number is specified", "status": 400}
        return web.json_response(body, status=400)
    sid = "CA" + secrets.token_hex(16)
    call = {"to": form["To"], "from": form["From"], "status": "queued"}
    request.app[_CALLS][sid] = call
    return web.json_response(_resource(request.match_info["account"], sid, call), status=201)


async def call(request: web.Request) -> web.Response:
    refused = _refusal(request)
    if refused is not None:
        return refused
    sid = request.match_info["call"]
    found = request.app[_CALLS].get(sid)
    if found is None:
        body = {"code": 20404, "message": "The requested resource was not found", "status": 404}
        return web.json_response(body, status=404)
    if request.method == "POST":
        form = dict(parse_qsl((await request.read()).decode()))
        if form.get("Status") == "completed":
            found["status"] = "completed" if found["status"] == "in-progress" else "canceled"
    elif found["status"] == "queued":
        found["status"] = "in-progress"
    return web.json_response(_resource(request.match_info["account"], sid, found))


def add_routes(app: web.Application) -> None:
    app[_CALLS] = {}
    app.router.add_get(ACCOUNT_PATH, account)
    app.router.add_post(CALLS_PATH, create)
    app.router.add_get(CALL_PATH, call)
    app.router.add_post(CALL_PATH, call)
