"""The time one upstream call spends waiting on its provider.

What is left of a call's duration is the service's own; the pipelines report both, and the
provider adapters count the waits as they read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class UpstreamTimer:
    """Seconds one call spent waiting on its provider (and sleeping before a retry).

    `caller_time` adds up time a read of the provider's answer stood suspended while the service
    was busy with the caller instead (a read started ahead, see `llm.ready_text`): a read's wait
    is its duration less what `caller_time` grew by meanwhile.
    """

    __slots__ = ("caller_time", "waited")

    def __init__(self) -> None:
        self.waited = 0.0
        self.caller_time = 0.0

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Counts the time the block takes as time spent waiting on the provider."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.waited += time.perf_counter() - started

    def upstream_wait(self, started: float, caller_time_then: float, now: float) -> float:
        """The part of [started, now] spent waiting on the provider; it is added to `waited`."""
        wait = max(0.0, now - started - (self.caller_time - caller_time_then))
        self.waited += wait
        return wait
