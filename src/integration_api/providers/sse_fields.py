"""The fields of a server-sent event stream, read as the HTML standard's event-stream format says.

Lines come in already split and bounded (`sse.BoundedEventDecoder`); here each one updates the
event being built (`data`, `event`, `id`, `retry`; a line starting with `:` is a comment) and a
blank line hands the event out. The last event id is kept across events, as the standard asks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(slots=True)
class ServerSentEvent:
    """One event: its type (`message` unless named), its data lines joined by `\\n`."""

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None

    def json(self) -> object:
        return json.loads(self.data)


class EventFieldDecoder:
    """One line at a time in, an event out at each blank line that ends one."""

    __slots__ = ("_data", "_event", "_last_id", "_retry")

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._last_id = ""
        self._retry: int | None = None

    def decode(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            # An id holding NUL is ignored, as the standard says.
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not (self._event or self._data or self._last_id or self._retry is not None):
            return None
        event = ServerSentEvent(
            self._event or "message", "\n".join(self._data), self._last_id, self._retry
        )
        self._event, self._data, self._retry = "", [], None
        return event
