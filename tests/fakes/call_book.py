"""The calls a fake telephony provider holds, and what every fake call API shares: the key
check, the request it was sent, the provider's own status words."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.fakes.server import json_response

# Twilio's test-credential magic numbers (twilio.com/docs/iam/test-credentials), used by every
# fake: a number the provider calls invalid, one it cannot reach, one the account may not call.
INVALID_NUMBER = "+15005550001"
UNREACHABLE_NUMBER = "+15005550002"
FORBIDDEN_NUMBER = "+15005550003"
# The only caller id the fake accounts own.
OWNED_NUMBER = "+15005550006"


@dataclass
class FakeCall:
    call_id: str
    from_number: str
    to_number: str
    # The provider's own word for where the call is.
    status: str
    sent: dict[str, Any] = field(default_factory=dict)
    # Redirects, transfers, streams and hang-ups, in order, as the provider received them.
    actions: list[dict[str, Any]] = field(default_factory=list)


class CallBook:
    """The calls of one fake account."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self.calls: dict[str, FakeCall] = {}
        self._new_id = new_id

    def open(self, from_number: str, to_number: str, status: str, sent: dict[str, Any]) -> FakeCall:
        call = FakeCall(self._new_id(), from_number, to_number, status, sent)
        self.calls[call.call_id] = call
        return call

    def set_status(self, call_id: str, status: str) -> None:
        self.calls[call_id].status = status

    def only(self) -> FakeCall:
        assert len(self.calls) == 1, self.calls
        return next(iter(self.calls.values()))


def hex_id(prefix: str = "", length: int = 32) -> Callable[[], str]:
    return lambda: prefix + secrets.token_hex(length // 2)


def uuid_id() -> str:
    import uuid

    return str(uuid.uuid4())


async def form_of(request: web.Request) -> dict[str, Any]:
    """A form body; a repeated name becomes a list."""
    fields: dict[str, Any] = {}
    for name, value in parse_qsl((await request.read()).decode(), keep_blank_values=True):
        if name in fields:
            previous = fields[name]
            fields[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[name] = value
    return fields


async def json_of(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    value = json.loads(body) if body else {}
    assert isinstance(value, dict)
    return value


def answer(status: int, body: object = None) -> web.Response:
    if body is None:
        return web.Response(status=status)
    return json_response(status, body)
