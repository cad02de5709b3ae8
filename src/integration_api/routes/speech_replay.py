"""The caller's stream of a routed speech call (audio to transcribe, text to speak), kept so that
the next target can be handed what a failed one was already sent — within a bound.

One task reads the caller's stream into a short queue; each target's session reads a `Feed`:
first everything earlier targets took (replayed at once, in order), then the live stream.
Reading through the task keeps the caller's stream intact when a target's session is cancelled
mid-read, and the short queue keeps the caller's flow control.

What was taken is kept only while it may still be replayed: until the first content reached the
caller (`commit`), or until it passes the bound (`limit`, in the unit `size` counts: bytes of
audio, characters of text). Past the bound nothing is kept and the call can no longer move on:
a target that fails then ends the call, as a call naming a credential would.

A feed also says since when its target owes an answer (`owed_at`): from the first input that
asks for one (finalize, flush) or the end of the caller's stream. The route's time-to-first-
content deadline counts from then, so a caller who has not spoken yet is never taken for a
provider that does not answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Generic, TypeVar

InputT = TypeVar("InputT")

# Inputs read ahead of the target's session: enough to keep it fed, few enough that a caller
# sending faster than the provider takes still waits (flow control) instead of filling memory.
_READ_AHEAD = 8


@dataclass(frozen=True)
class _End:
    """The caller's stream ended, cleanly (error None) or with the error it raised."""

    error: BaseException | None = None


class Feed(Generic[InputT]):
    """What one target's session reads: the replayed inputs, then the live ones."""

    def __init__(self, source: ReplayableInputs[InputT]) -> None:
        self._source = source
        # Event-loop time since when the target owes an answer (None: not yet).
        self.owed_at: float | None = None
        self._on_owed: Callable[[float], None] | None = None

    def when_owed(self, callback: Callable[[float], None] | None) -> None:
        """Calls `callback` with `owed_at` once it is known (at once if it is already)."""
        self._on_owed = callback
        if callback is not None and self.owed_at is not None:
            callback(self.owed_at)

    def _owes(self) -> None:
        if self.owed_at is None:
            self.owed_at = asyncio.get_running_loop().time()
            if self._on_owed is not None:
                self._on_owed(self.owed_at)

    def __aiter__(self) -> AsyncIterator[InputT]:
        return self._items()

    async def _items(self) -> AsyncIterator[InputT]:
        source = self._source
        for item in list(source.history):
            if source.owes(item):
                self._owes()
            yield item
        while True:
            taken: InputT | _End = source.ended or await source.take()
            if isinstance(taken, _End):
                self._owes()
                if taken.error is not None:
                    raise taken.error
                return
            if source.owes(taken):
                self._owes()
            yield taken


class ReplayableInputs(Generic[InputT]):
    """The caller's inputs, read once, handed to one target after another."""

    def __init__(
        self,
        inputs: AsyncIterator[InputT],
        *,
        size: Callable[[InputT], int],
        limit: int,
        owes: Callable[[InputT], bool],
    ) -> None:
        self._inputs = inputs
        self._size = size
        self._limit = limit
        self.owes = owes
        self._queue: asyncio.Queue[InputT | _End] = asyncio.Queue(maxsize=_READ_AHEAD)
        self._kept = 0
        self.history: list[InputT] = []
        # Whether everything taken so far is kept, so a next target can be given all of it.
        self.replayable = True
        self.ended: _End | None = None
        self._reader: asyncio.Task[None] | None = None

    def feed(self) -> Feed[InputT]:
        """A new target's view of the stream; starts reading the caller's on first use."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        return Feed(self)

    def commit(self) -> None:
        """The first content reached the caller: there is no going back, nothing to keep."""
        self.replayable = False
        self.history.clear()

    async def close(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader

    async def take(self) -> InputT | _End:
        taken = await self._queue.get()
        if isinstance(taken, _End):
            self.ended = taken
        else:
            self._keep(taken)
        return taken

    def _keep(self, item: InputT) -> None:
        if not self.replayable:
            return
        self._kept += self._size(item)
        if self._kept > self._limit:
            self.commit()
            return
        self.history.append(item)

    async def _read(self) -> None:
        try:
            async for item in self._inputs:
                await self._queue.put(item)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - handed to the target reading, which raises it
            await self._queue.put(_End(error))
        else:
            await self._queue.put(_End())
