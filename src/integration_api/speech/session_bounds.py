"""How long one speech session may last, and how long its caller may send nothing.

A session holds a tenant's speech slot, a provider socket and the provider's meter; the service
keeps the provider session alive with keep-alives while the caller is silent. Without bounds a
caller that configured a session and then sent nothing would keep all of that forever.

- `SPEECH_MAX_SESSION_SECONDS`: past it the session ends with RESOURCE_EXHAUSTED
  `SPEECH_SESSION_DURATION_LIMIT` (not retryable as such: open a new session). It is checked
  while waiting for the caller's next message and at every event from the provider.
- `SPEECH_MAX_CALLER_IDLE_SECONDS`: a caller that sends no audio, text or control for that long
  ends its session with DEADLINE_EXCEEDED `SPEECH_CALLER_IDLE`. Empty audio or text does not
  count as activity, nor do the keep-alives the service sends upstream meanwhile. Once the
  caller has ended its input, the provider's remaining answer is bounded by
  `UPSTREAM_MAX_EVENT_GAP_SECONDS` instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TypeVar

from integration_api.errors import DeadlineExceeded, ResourceExhausted
from integration_api.speech.contract import AudioInput, TextInput

DURATION_LIMIT = "SPEECH_SESSION_DURATION_LIMIT"
CALLER_IDLE = "SPEECH_CALLER_IDLE"

T = TypeVar("T")


def duration_limit(limit: float) -> ResourceExhausted:
    error = ResourceExhausted(
        f"the session lasted longer than {limit:g} s, its limit; open a new session",
        reason=DURATION_LIMIT,
    )
    error.retryable = False
    return error


def caller_idle(limit: float) -> DeadlineExceeded:
    return DeadlineExceeded(
        f"the caller sent no audio, text or control for {limit:g} s; the session ended",
        reason=CALLER_IDLE,
    )


def _active(item: object) -> bool:
    """Whether a caller's message is activity: empty audio or text is not."""
    if isinstance(item, AudioInput):
        return bool(item.data)
    if isinstance(item, TextInput):
        return bool(item.text)
    return True


class SessionBounds:
    """The clock of one session, started when it is created."""

    def __init__(self, max_session_seconds: float, max_caller_idle_seconds: float) -> None:
        self._max_session = max_session_seconds
        self._max_idle = max_caller_idle_seconds
        self._ends = time.monotonic() + max_session_seconds

    def check(self) -> None:
        """Raise the duration error once the session is past its limit."""
        if time.monotonic() >= self._ends:
            raise duration_limit(self._max_session)

    async def caller(self, inputs: AsyncIterator[T]) -> AsyncIterator[T]:
        """The caller's messages, ending the session when the caller stays silent too long or
        the session outlives its limit while waiting for them."""
        iterator = aiter(inputs)
        idle_until = time.monotonic() + self._max_idle
        while True:
            deadline = min(idle_until, self._ends)
            try:
                async with asyncio.timeout_at(_loop_time(deadline)):
                    item = await anext(iterator)
            except StopAsyncIteration:
                return
            except TimeoutError:
                self.check()
                raise caller_idle(self._max_idle) from None
            self.check()
            if _active(item):
                idle_until = time.monotonic() + self._max_idle
            yield item


def _loop_time(monotonic_deadline: float) -> float:
    """A `time.monotonic` instant on the running loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (monotonic_deadline - time.monotonic())
