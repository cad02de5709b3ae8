"""Assembles streamed tool calls from their fragments, one call per `index`.

OpenAI-style streams send a call's id and name in its first fragment and its arguments as
pieces of a JSON string in the following ones, keyed by `index`; parallel calls use 0, 1, 2….
Mistral sends each call whole and without `index`. Both end up as complete `ToolCall`s whose
arguments parse as JSON, numbered from 0 in the order the provider made them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from integration_api.errors import Internal
from integration_api.llm.contract import ToolCall

MALFORMED_TOOL_CALL = "MALFORMED_TOOL_CALL"


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    argument_pieces: list[str] = field(default_factory=list)


class ToolCallAccumulator:
    """Collects fragments until the provider says the answer is finished."""

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._calls: dict[int, _PendingCall] = {}
        self._last_key: int | None = None

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, fragment: Mapping[str, object]) -> None:
        """Add one element of a delta's `tool_calls` list."""
        call_id = fragment.get("id")
        key = self._key_for(fragment.get("index"), call_id)
        pending = self._calls.setdefault(key, _PendingCall())
        self._last_key = key
        if isinstance(call_id, str) and call_id:
            pending.id = call_id
        function = fragment.get("function")
        if not isinstance(function, Mapping):
            return
        name = function.get("name")
        if isinstance(name, str) and name:
            pending.name = name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            pending.argument_pieces.append(arguments)
        elif isinstance(arguments, Mapping):
            # Some OpenAI-compatible servers send the arguments as an object.
            pending.argument_pieces.append(json.dumps(arguments))

    def _key_for(self, index: object, call_id: object) -> int:
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        # Without an index, a fragment with a new id opens a call; one without continues the last.
        known = self._calls.get(self._last_key) if self._last_key is not None else None
        if known is not None and (not call_id or call_id == known.id):
            return self._last_key  # type: ignore[return-value]
        return max(self._calls, default=-1) + 1

    def complete(self) -> list[ToolCall]:
        """Every call collected so far, complete and in order; the accumulator is emptied."""
        calls = [
            self._finished(position, pending)
            for position, (_key, pending) in enumerate(sorted(self._calls.items()))
        ]
        self._calls.clear()
        self._last_key = None
        return calls

    def _finished(self, position: int, pending: _PendingCall) -> ToolCall:
        if not pending.name:
            raise Internal(
                f"{self._provider} sent a tool call without a name",
                reason=MALFORMED_TOOL_CALL,
                provider=self._provider,
            )
        arguments = "".join(pending.argument_pieces).strip() or "{}"
        try:
            json.loads(arguments)
        except ValueError:
            raise Internal(
                f"{self._provider} sent tool call {position} with arguments that are not JSON",
                reason=MALFORMED_TOOL_CALL,
                provider=self._provider,
            ) from None
        # A call must be answerable by id; servers that omit it get a stable stand-in.
        call_id = pending.id or f"call_{position}"
        return ToolCall(index=position, id=call_id, name=pending.name, arguments_json=arguments)
