"""Assembles streamed tool calls from their fragments, one call per `index`.

OpenAI-style streams send a call's id and name in its first fragment and its arguments as
pieces of a JSON string in the following ones, keyed by `index`; parallel calls use 0, 1, 2….
Mistral sends each call whole and without `index`. Both end up as complete `ToolCall`s whose
arguments parse as JSON, numbered from 0 in the order the provider made them.

What an answer may make the service hold is bounded (`UpstreamLimits`): the number of calls and
the size of all their arguments together. Empty fragments are not kept, so a stream of millions
of them costs nothing but the time the answer's own bounds allow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from integration_api.errors import Internal, Unavailable
from integration_api.llm.contract import ToolCall
from integration_api.upstream.limits import (
    DEFAULT_LIMITS,
    TOO_MANY_TOOL_CALLS,
    TOOL_ARGUMENTS_TOO_LARGE,
    UpstreamLimits,
    too_large,
)

MALFORMED_TOOL_CALL = "MALFORMED_TOOL_CALL"


@dataclass
class _PendingCall:
    id: str = ""
    name: str = ""
    argument_pieces: list[str] = field(default_factory=list)


class ToolCallBudget:
    """What one answer's tool calls may make the service hold, whatever the provider's format:
    how many calls, and how many bytes of arguments all together. Every stream reader that
    collects tool calls counts them here."""

    def __init__(self, provider: str, limits: UpstreamLimits = DEFAULT_LIMITS) -> None:
        self._provider = provider
        self._max_calls = limits.max_tool_calls
        self._max_argument_bytes = limits.max_tool_arguments_bytes
        self._argument_bytes = 0
        self._calls_seen = 0

    def open_call(self) -> None:
        """Count one more call; counted over the whole answer, however early calls complete."""
        self._calls_seen += 1
        if self._calls_seen > self._max_calls:
            raise Unavailable(
                f"{self._provider} sent more than the limit of {self._max_calls} tool calls",
                reason=TOO_MANY_TOOL_CALLS,
                provider=self._provider,
            )

    def add_arguments(self, arguments: str) -> None:
        """Count a piece of arguments before it is kept."""
        self._argument_bytes += len(arguments.encode())
        if self._argument_bytes > self._max_argument_bytes:
            raise too_large(
                self._provider,
                "tool call arguments",
                self._max_argument_bytes,
                TOOL_ARGUMENTS_TOO_LARGE,
            )


class ToolCallAccumulator:
    """Collects fragments until the provider says the answer is finished."""

    def __init__(self, provider: str, limits: UpstreamLimits = DEFAULT_LIMITS) -> None:
        self._provider = provider
        self._budget = ToolCallBudget(provider, limits)
        self._calls: dict[int, _PendingCall] = {}
        self._last_key: int | None = None

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, fragment: Mapping[str, object]) -> None:
        """Add one element of a delta's `tool_calls` list."""
        call_id = fragment.get("id")
        key = self._key_for(fragment.get("index"), call_id)
        pending = self._calls.get(key)
        if pending is None:
            pending = self._calls[key] = self._open_call()
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
        if isinstance(arguments, Mapping):
            # Some OpenAI-compatible servers send the arguments as an object.
            arguments = json.dumps(arguments)
        if isinstance(arguments, str) and arguments:
            self._budget.add_arguments(arguments)
            pending.argument_pieces.append(arguments)

    def _open_call(self) -> _PendingCall:
        self._budget.open_call()
        return _PendingCall()

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
        return finished_tool_call(
            self._provider, position, pending.id, pending.name, pending.argument_pieces
        )


def finished_tool_call(
    provider: str,
    position: int,
    call_id: str,
    name: str,
    pieces: list[str],
    *,
    id_prefix: str = "call_",
    require_object: bool = False,
) -> ToolCall:
    """One call assembled from its argument fragments: named, its arguments JSON (`{}` when it
    sent none; an object where the provider's format says so), and an id — the provider's, or
    a stable stand-in (`{id_prefix}{position}`) so the call can still be answered by id.

    Raises:
        Internal: MALFORMED_TOOL_CALL when the call has no name or its arguments do not parse.
    """
    arguments = "".join(pieces).strip() or "{}"
    try:
        parsed: object = json.loads(arguments)
    except ValueError:
        parsed = None
    well_formed = (
        isinstance(parsed, dict) if require_object else parsed is not None or (arguments == "null")
    )
    if not name or not well_formed:
        raise Internal(
            f"{provider} sent tool call {position} without a name or with arguments that are "
            "not JSON",
            reason=MALFORMED_TOOL_CALL,
            provider=provider,
        )
    return ToolCall(
        index=position, id=call_id or f"{id_prefix}{position}", name=name, arguments_json=arguments
    )
