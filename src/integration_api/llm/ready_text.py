"""Text deltas that are ready together leave as one message; nothing ever waits to be merged.

Every message costs the service a gRPC send (a completion, a wake-up of the event loop, a
system call) whatever its size. When the provider outruns the caller, or the service is behind,
several text deltas are already decoded, or their bytes already in the connection's buffer, by
the time one is sent: those are joined into one `TextDelta`. Whether the next part is ready is
found out exactly, by taking one step of the adapter's stream: if that step completes without
waiting for the network, its part is ready; if it would wait, the step is kept, suspended, and
the text in hand leaves at once. A delta is never delayed by the one after it, and the
answer's first part is sent before anything is read ahead (the pipeline merges from the second).

Only text is merged: a reasoning delta may close its block (`signature`), and tool calls, usage
and the finish keep their own messages, in order. An error the adapter raises while text is in
hand is raised after that text has gone out.
"""

from __future__ import annotations

import asyncio
import time
import types
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any

from integration_api.llm.contract import StreamPart, TextDelta
from integration_api.upstream.timer import UpstreamTimer

# A joined delta stops growing here: a provider that floods the connection still reaches the
# caller in messages far below any client's receive limit (gRPC's default is 4 MiB).
MAX_JOINED_CHARACTERS = 64 * 1024

# A step of the adapter's stream that had to wait: the suspended coroutine and what it awaits.
_Suspended = tuple[Coroutine[Any, Any, StreamPart], Any]


class ReadyTextMerger:
    """Hands out an adapter's parts, with the text deltas ready at the same moment joined."""

    __slots__ = ("_error", "_parts", "_ready", "_suspended", "_suspended_at", "_timer")

    def __init__(self, parts: AsyncIterator[StreamPart], timer: UpstreamTimer) -> None:
        self._parts = parts
        # A step suspended while the caller is served does not count as waiting on the provider.
        self._timer = timer
        self._suspended_at = 0.0
        # At most one of these holds what was taken ahead of the part last handed out.
        self._ready: StreamPart | None = None
        self._error: BaseException | None = None
        self._suspended: _Suspended | None = None

    def with_ready_text(self, part: StreamPart) -> StreamPart:
        """`part`, joined with the text deltas that are ready right after it (if it is text)."""
        if not isinstance(part, TextDelta):
            return part
        texts: list[str] | None = None
        size = len(part.text)
        while (
            size < MAX_JOINED_CHARACTERS
            and self._take_ready()
            and isinstance(self._ready, TextDelta)
        ):
            if texts is None:
                texts = [part.text]
            texts.append(self._ready.text)
            size += len(self._ready.text)
            self._ready = None
        return part if texts is None else TextDelta(text="".join(texts))

    async def next_part(self) -> StreamPart:
        """The next part (merged); raises what the stream raises, StopAsyncIteration at its end."""
        if self._ready is not None:
            part, self._ready = self._ready, None
        elif self._error is not None:
            error, self._error = self._error, None
            raise error
        elif self._suspended is not None:
            suspended, self._suspended = self._suspended, None
            self._timer.caller_time += time.perf_counter() - self._suspended_at
            part = await _resume(*suspended)
        else:
            part = await anext(self._parts)
        return self.with_ready_text(part)

    async def aclose(self) -> None:
        """End a step left suspended (its adapter releases its connection), then the stream."""
        suspended, self._suspended = self._suspended, None
        if suspended is not None:
            await _abandon(suspended)
        await self._parts.aclose()  # type: ignore[attr-defined]

    def _take_ready(self) -> bool:
        """Take the next part if it is ready now; True if one was taken (into `_ready`)."""
        step: Any = anext(self._parts)
        try:
            awaited = step.send(None)
        except StopIteration as done:
            self._ready = done.value
            return True
        except Exception as error:  # noqa: BLE001 - raised in turn, after the text in hand
            self._error = error
            return False
        self._suspended = (step, awaited)
        self._suspended_at = time.perf_counter()
        return False


@types.coroutine
def _resume(step: Coroutine[Any, Any, StreamPart], awaited: Any) -> Generator[Any, Any, StreamPart]:
    """Await a step that was started by hand: hand its awaitable to the task, then go on with it.

    The task waits on `awaited` as if the step had yielded it itself; a cancellation thrown at
    this point is passed into the step, so the adapter ends as it would have.
    """
    try:
        yield awaited
    except GeneratorExit:
        step.close()
        raise
    except BaseException as error:  # noqa: BLE001 - passed on to the step, as `yield from` does
        try:
            awaited = step.throw(error)
        except StopIteration as done:
            result: StreamPart = done.value
            return result
        return (yield from _resume(step, awaited))
    return (yield from step.__await__())


async def _abandon(suspended: _Suspended) -> None:
    """End a suspended step the way a cancelled task would, running the adapter's clean-up."""
    step, _awaited = suspended
    try:
        awaited = step.throw(asyncio.CancelledError())
    except BaseException:  # noqa: BLE001 - whatever the step ends with, it has ended
        return
    try:
        await _resume(step, awaited)
    except BaseException:  # noqa: BLE001
        return
