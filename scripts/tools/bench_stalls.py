"""Stalls of a benchmarked process's event loop: how late a timer fires, and garbage collections.

The service (`bench_service.py`) and the floor (`bench_floor.py`) each run a `StallRecorder`:
a timer every `LAG_INTERVAL` seconds that records how late it fired (anything that holds the
one event loop delays it, and every stream the loop carries with it), and `gc.callbacks` that
record each collection's pause and generation. Every sample carries its CLOCK_MONOTONIC time,
which every process of the machine shares, so the benchmark keeps only the samples inside its
own measured rounds (`window_figures`). On SIGUSR1 the process writes what it has recorded to
its `--stall-file`, aside and then renamed, so the benchmark never reads half a file.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import time
from array import array
from dataclasses import dataclass
from pathlib import Path

from scripts.tools.bench_report import percentile

# Often enough that a 5 ms stall is seen, rarely enough that the probe's own CPU (a wake-up of
# some microseconds) stays far below a stream's.
LAG_INTERVAL = 0.005
GENERATIONS = 3


class StallRecorder:
    """Loop lag and GC pauses of this process, with their times, until it stops."""

    def __init__(self) -> None:
        self._lag_times = array("d")
        self._lags = array("d")
        self._gc_times = array("d")
        self._gc_pauses = array("d")
        self._gc_generations = array("b")
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def install(self, path: Path) -> None:
        """Start probing on the running loop; SIGUSR1 writes the samples to `path`."""
        loop = asyncio.get_running_loop()
        gc.callbacks.append(self._on_gc)
        self._task = loop.create_task(self._probe())
        loop.add_signal_handler(signal.SIGUSR1, self._write, path)

    async def _probe(self) -> None:
        while True:
            due = time.monotonic() + LAG_INTERVAL
            await asyncio.sleep(LAG_INTERVAL)
            now = time.monotonic()
            self._lag_times.append(now)
            self._lags.append(max(0.0, now - due))

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
            return
        self._gc_times.append(self._gc_started)
        self._gc_pauses.append(time.monotonic() - self._gc_started)
        self._gc_generations.append(info["generation"])

    def _write(self, path: Path) -> None:
        samples = {
            "lag_times": self._lag_times.tolist(),
            "lags": self._lags.tolist(),
            "gc_times": self._gc_times.tolist(),
            "gc_pauses": self._gc_pauses.tolist(),
            "gc_generations": self._gc_generations.tolist(),
        }
        aside = path.with_suffix(".partial")
        aside.write_text(json.dumps(samples))
        os.replace(aside, path)


class SlowCallbackLog:
    """Every event-loop callback that held the loop longer than `threshold` seconds, with its
    wall time and the thread's CPU time in it (CPU far below wall: the process was preempted,
    not busy), written as one JSON line each when the process stops (`--slow-callbacks`).

    Wraps `asyncio.Handle._run`, which runs every callback and task step; a diagnosis tool, not
    part of the figures (it costs two clock reads per callback).
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.entries: list[dict[str, object]] = []

    def install(self) -> None:
        original = asyncio.Handle._run
        log = self

        def timed(handle: asyncio.Handle) -> None:
            started, cpu_started = time.monotonic(), time.thread_time()
            original(handle)
            elapsed = time.monotonic() - started
            if elapsed >= log.threshold:
                log.entries.append(
                    {
                        "at": round(started, 4),
                        "wall_ms": round(elapsed * 1000, 2),
                        "cpu_ms": round((time.thread_time() - cpu_started) * 1000, 2),
                        "callback": _described(handle),
                    }
                )

        setattr(asyncio.Handle, "_run", timed)  # noqa: B010 - mypy refuses a method assigned

    def write(self, path: Path) -> None:
        path.write_text("".join(json.dumps(entry) + "\n" for entry in self.entries))


def _described(handle: asyncio.Handle) -> str:
    """The task a handle stepped (its coroutine's name and where it waits now), else the handle."""
    task = getattr(getattr(handle, "_callback", None), "__self__", None)
    if isinstance(task, asyncio.Task):
        coroutine = task.get_coro()
        frame = getattr(coroutine, "cr_frame", None)
        where = f" at {frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else ""
        return f"task {getattr(coroutine, '__qualname__', coroutine)}{where}"[:300]
    return repr(handle)[:300]


@dataclass(frozen=True)
class StallFigures:
    """What held a process's loop during a level's measured rounds."""

    lag_p50_ms: float = 0.0
    lag_p99_ms: float = 0.0
    lag_max_ms: float = 0.0
    gc_collections: tuple[int, ...] = (0, 0, 0)
    gc_longest_ms: tuple[float, ...] = (0.0, 0.0, 0.0)


async def read_samples(pid: int, path: Path) -> dict[str, list[float]] | None:
    """Ask process `pid` for its samples (SIGUSR1) and read them; None if it writes none."""
    await asyncio.to_thread(path.unlink, missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    for _ in range(200):
        samples = await asyncio.to_thread(_written, path)
        if samples is not None:
            return samples
        await asyncio.sleep(0.05)
    return None


def _written(path: Path) -> dict[str, list[float]] | None:
    try:
        samples: dict[str, list[float]] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return samples


def window_figures(
    samples: dict[str, list[float]], windows: list[tuple[float, float]]
) -> StallFigures:
    """The lag percentiles and GC pauses of the samples that fall inside `windows`."""

    def inside(moment: float) -> bool:
        return any(start <= moment <= end for start, end in windows)

    lags = sorted(
        lag
        for moment, lag in zip(samples["lag_times"], samples["lags"], strict=True)
        if inside(moment)
    )
    collections = [0] * GENERATIONS
    longest = [0.0] * GENERATIONS
    for moment, pause, generation in zip(
        samples["gc_times"], samples["gc_pauses"], samples["gc_generations"], strict=True
    ):
        if inside(moment):
            index = int(generation)
            collections[index] += 1
            longest[index] = max(longest[index], pause * 1000)
    return StallFigures(
        lag_p50_ms=round(percentile(lags, 0.5) * 1000, 2),
        lag_p99_ms=round(percentile(lags, 0.99) * 1000, 2),
        lag_max_ms=round((lags[-1] if lags else 0.0) * 1000, 2),
        gc_collections=tuple(collections),
        gc_longest_ms=tuple(round(value, 2) for value in longest),
    )
