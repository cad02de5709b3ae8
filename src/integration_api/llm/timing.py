"""The caller's deadline, and the clock that splits a call's time between provider and service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TypeVar

from integration_api.errors import DeadlineExceeded
from integration_api.llm.contract import Timing
from integration_api.upstream.timer import UpstreamTimer

PartT = TypeVar("PartT")


@dataclass(frozen=True)
class Deadline:
    """When the caller stops waiting, on the event loop's clock (None: it waits for ever)."""

    at: float | None = None

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        if seconds is None:
            return cls(None)
        return cls(asyncio.get_running_loop().time() + max(0.0, seconds))

    def remaining(self) -> float | None:
        if self.at is None:
            return None
        return self.at - asyncio.get_running_loop().time()

    async def next_of(self, iterator: AsyncIterator[PartT], provider: str) -> PartT:
        """`anext(iterator)`, abandoned with DeadlineExceeded when the caller's time runs out."""
        if self.at is None:
            return await anext(iterator)
        try:
            async with asyncio.timeout_at(self.at):
                return await anext(iterator)
        except TimeoutError:
            raise self.expired(provider) from None

    @staticmethod
    def expired(provider: str) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"{provider} did not answer within the caller's deadline", provider=provider
        )

    async def sleep(self, seconds: float, timer: UpstreamTimer) -> None:
        """Wait before a retry; the wait counts as time spent on the provider."""
        with timer.waiting():
            await asyncio.sleep(seconds)


class CallClock:
    """Times one call: when it started, when its first part left, how long it waited upstream."""

    __slots__ = ("first_part_at", "started", "upstream")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_part_at: float | None = None
        self.upstream = UpstreamTimer()

    def part_sent(self) -> None:
        if self.first_part_at is None:
            self.first_part_at = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def time_to_first_part(self) -> float | None:
        if self.first_part_at is None:
            return None
        return self.first_part_at - self.started

    def overhead(self, total: float) -> float:
        return max(0.0, total - self.upstream.waited)

    def timing(self) -> Timing:
        total = self.elapsed()
        first = self.time_to_first_part()
        return Timing(
            time_to_first_token=total if first is None else first,
            gateway_overhead=self.overhead(total),
            total=total,
        )
