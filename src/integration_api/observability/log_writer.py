"""Log lines written by a thread of their own, so that a slow reader never stops the event loop.

A write to stderr blocks once the pipe behind it is full: a log collector that stalls, a
terminal paused. Written on the event loop, that would stop every stream the loop carries until
the reader catches up. Here the loop only appends the rendered line to a bounded queue; a thread
writes what has gathered in one system call and is the one that blocks.

The thread writes every `WRITE_EVERY_SECONDS`, or at once when `WAKE_AT_LINES` wait: woken for
every line, at hundreds of calls a second, it cost each call a thread switch. When more than
`capacity` lines wait, new ones are dropped and counted, and once lines flow again the count is
written as a line of its own (and in `integration_api_log_lines_dropped_total`).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import deque
from collections.abc import Callable

from prometheus_client import Counter

LOG_LINES_DROPPED = Counter(
    "integration_api_log_lines_dropped_total",
    "Log lines dropped because the log stream did not take them fast enough.",
)

# Lines waiting for a slow stream before new ones are dropped: about 5 MB of typical lines.
DEFAULT_CAPACITY = 20_000
# Lines joined into one write, so that a long queue drains in few system calls.
_BATCH = 256
# How long a line may wait before the thread writes it, and how many wake the thread at once.
WRITE_EVERY_SECONDS = 0.05
WAKE_AT_LINES = 256
# How long the process waits at exit for waiting lines to be written.
_EXIT_FLUSH_SECONDS = 2.0

DropNote = Callable[[int], str]


class BackgroundLineWriter:
    """Writes lines to file descriptor `fd` from a daemon thread (see the module docstring)."""

    def __init__(self, fd: int, drop_note: DropNote, capacity: int = DEFAULT_CAPACITY) -> None:
        self._fd = fd
        self._drop_note = drop_note
        self._capacity = capacity
        self._lines: deque[str] = deque()
        self._wake = threading.Event()
        # Lines taken from the queue and not yet written.
        self._writing = False
        self._dropped = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def write_line(self, line: str) -> None:
        """Queue one line (without its line break); never blocks."""
        if len(self._lines) >= self._capacity:
            self._dropped += 1
            LOG_LINES_DROPPED.inc()
            return
        self._lines.append(line)
        if len(self._lines) >= WAKE_AT_LINES and not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Wait until every queued line is written; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        while self._lines or self._writing:
            if time.monotonic() >= deadline:
                return False
            self._wake.set()
            time.sleep(0.005)
        return True

    def close(self) -> None:
        """Write what waits (for at most a moment) and stop the thread."""
        self._closing = True
        self._wake.set()
        self._thread.join(_EXIT_FLUSH_SECONDS)

    def _run(self) -> None:
        while True:
            self._wake.wait(WRITE_EVERY_SECONDS)
            self._wake.clear()
            self._drain()
            if self._closing:
                return

    def _drain(self) -> None:
        lines = self._lines
        while lines:
            self._writing = True
            batch = [lines.popleft() for _ in range(min(_BATCH, len(lines)))]
            self._write("\n".join(batch) + "\n")
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                self._write(self._drop_note(dropped) + "\n")
            self._writing = False

    def _write(self, text: str) -> None:
        data = memoryview(text.encode("utf-8", "replace"))
        while data:
            try:
                written = os.write(self._fd, data)
            except InterruptedError:
                continue
            except OSError:
                return  # the stream is gone (closed, a broken pipe): nothing can be said
            data = data[written:]
