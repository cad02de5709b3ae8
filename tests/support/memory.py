"""The peak growth of this process's resident memory while a block runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import psutil

_SAMPLE_SECONDS = 0.005


@asynccontextmanager
async def peak_rss_growth() -> AsyncIterator[Callable[[], int]]:
    """Yields a function giving the highest RSS seen since the block began, minus the start.

    Sampled on the event loop every few milliseconds and once more at the end, so memory that
    was taken and given back during the block still counts.
    """
    process = psutil.Process()
    start = process.memory_info().rss
    peak = start

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(_SAMPLE_SECONDS)

    sampler = asyncio.create_task(sample())
    try:
        yield lambda: peak - start
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        peak = max(peak, process.memory_info().rss)
