"""What a call request must satisfy before any provider sees it.

URLs a caller gives are handed to the provider, which fetches or connects to them: this service
never does. They must still be absolute, and in production encrypted (`https`, `wss` for a media
stream), since the provider sends call details and audio there. Markup is capped at 64 KiB, the
size beyond which no provider accepts inline instructions anyway. Call ids travel in URL paths,
so only the characters the providers' ids use are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from integration_api.errors import InvalidArgument
from integration_api.telephony.calls import (
    CallChange,
    Instructions,
    InstructionsUrl,
    Markup,
    MediaStream,
    PlaceCall,
    Redirect,
    Transfer,
)

MAX_MARKUP_BYTES = 64 * 1024
MAX_URL_CHARACTERS = 2048
MAX_NUMBER_CHARACTERS = 256
MAX_STREAM_PARAMETERS = 32
MAX_STREAM_PARAMETER_BYTES = 4096
MAX_RING_TIMEOUT_SECONDS = 600
# Twilio `CA…`, Vonage and Plivo UUIDs, Telnyx `v3:…` (base64url), Exotel hex: no `/`, no `.`.
_CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_-]{0,127}")

_PAGE_SCHEMES = {True: ("https",), False: ("https", "http")}
_STREAM_SCHEMES = {True: ("wss",), False: ("wss", "ws")}


class CallRules:
    """The checks of one process: `production` admits only encrypted URLs."""

    def __init__(self, *, production: bool) -> None:
        self._production = production

    def check_place(self, request: PlaceCall) -> None:
        check_number("from_number", request.from_number)
        check_number("to_number", request.to_number)
        self.check_instructions("answer", request.answer)
        if request.status_callback_url:
            self.check_url("status_callback_url", request.status_callback_url)
        elif request.status_callback_events:
            raise InvalidArgument.for_field(
                "status_callback_events", "need a status_callback_url to be sent to"
            )
        timeout = request.ring_timeout_seconds
        if timeout is not None and not 1 <= timeout <= MAX_RING_TIMEOUT_SECONDS:
            raise InvalidArgument.for_field(
                "ring_timeout", f"must be between 1 and {MAX_RING_TIMEOUT_SECONDS} seconds"
            )

    def check_change(self, change: CallChange) -> None:
        if isinstance(change, Redirect):
            self.check_instructions("redirect", change.instructions)
        elif isinstance(change, Transfer):
            check_number("transfer_to", change.to)

    def check_instructions(self, path: str, instructions: Instructions) -> None:
        if isinstance(instructions, InstructionsUrl):
            self.check_url(f"{path}.url", instructions.url)
        elif isinstance(instructions, Markup):
            check_markup(f"{path}.markup", instructions.text)
        elif isinstance(instructions, MediaStream):
            self.check_url(f"{path}.media_stream.url", instructions.url, stream=True)
            check_parameters(f"{path}.media_stream.parameters", instructions.parameters)

    def check_url(self, path: str, url: str, *, stream: bool = False) -> None:
        """An absolute URL with a host; `https`/`wss` in production, `http`/`ws` too elsewhere."""
        schemes = (_STREAM_SCHEMES if stream else _PAGE_SCHEMES)[self._production]
        problem = _url_problem(url, schemes)
        if problem is not None:
            raise InvalidArgument.for_field(path, problem)


def _url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    if not url:
        return "is required"
    if len(url) > MAX_URL_CHARACTERS:
        return f"must be at most {MAX_URL_CHARACTERS} characters"
    if any(character.isspace() or not character.isprintable() for character in url):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in schemes:
        return "must start with " + " or ".join(f"{scheme}://" for scheme in schemes)
    if not parts.hostname or not port_ok:
        return "must name a host (and a valid port)"
    if parts.fragment or url.endswith("#"):
        return "must not contain a fragment"
    return None


def check_number(path: str, number: str) -> None:
    """A phone number, SIP URI or client name: present, bounded, without spaces or controls."""
    if not number:
        raise InvalidArgument.for_field(path, "is required")
    if len(number) > MAX_NUMBER_CHARACTERS:
        raise InvalidArgument.for_field(path, f"must be at most {MAX_NUMBER_CHARACTERS} characters")
    if any(character.isspace() or not character.isprintable() for character in number):
        raise InvalidArgument.for_field(path, "must not contain whitespace or control characters")


def check_markup(path: str, markup: str) -> None:
    if not markup.strip():
        raise InvalidArgument.for_field(path, "is empty")
    if len(markup.encode()) > MAX_MARKUP_BYTES:
        raise InvalidArgument.for_field(path, f"must be at most {MAX_MARKUP_BYTES} bytes")


def check_parameters(path: str, parameters: Mapping[str, str]) -> None:
    items = list(parameters.items())
    if len(items) > MAX_STREAM_PARAMETERS:
        raise InvalidArgument.for_field(path, f"must hold at most {MAX_STREAM_PARAMETERS}")
    size = sum(len(name.encode()) + len(value.encode()) for name, value in items)
    if size > MAX_STREAM_PARAMETER_BYTES:
        raise InvalidArgument.for_field(
            path, f"must hold at most {MAX_STREAM_PARAMETER_BYTES} bytes of names and values"
        )
    for name, _ in items:
        if not name or any(not character.isprintable() for character in name):
            raise InvalidArgument.for_field(path, "names must be non-empty and printable")


def check_call_id(call_id: str) -> None:
    if not _CALL_ID.fullmatch(call_id):
        raise InvalidArgument.for_field(
            "call_id", "must be the provider's call id (letters, digits, `:`, `_`, `-`)"
        )
