"""Log lines written from a thread: in order, never blocking the caller, drops counted."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest

from integration_api.observability.log_writer import LOG_LINES_DROPPED, BackgroundLineWriter


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


def _read_all(fd: int, until: bytes) -> bytes:
    """What the pipe holds until `until` (a pattern) has arrived, or 10 s have passed."""
    os.set_blocking(fd, False)
    data = b""
    deadline = time.monotonic() + 10
    while not re.search(until, data) and time.monotonic() < deadline:
        try:
            data += os.read(fd, 1 << 16)
        except BlockingIOError:
            time.sleep(0.01)
    return data


def test_lines_arrive_whole_and_in_order(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    writer = BackgroundLineWriter(write_end, lambda dropped: f"dropped {dropped}")
    for number in range(1000):
        writer.write_line(f"line {number}")

    assert writer.flush(5)
    lines = _read_all(read_end, b"line 999\n").decode().splitlines()
    writer.close()

    assert lines == [f"line {number}" for number in range(1000)]


def test_a_reader_that_stops_costs_lines_not_time(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    dropped_before = LOG_LINES_DROPPED._value.get()
    writer = BackgroundLineWriter(write_end, lambda dropped: f"dropped {dropped}", capacity=100)
    line = "x" * 1000

    # Nobody reads: the pipe fills after some 64 lines, the queue after 100 more; the rest are
    # dropped, and none of the calls waits for the reader.
    for _ in range(2000):
        writer.write_line(line)
    assert not writer.flush(0.2)

    data = _read_all(read_end, rb"dropped \d+\n")
    writer.close()
    dropped = LOG_LINES_DROPPED._value.get() - dropped_before
    assert 1000 < dropped < 2000
    assert f"dropped {int(dropped)}\n".encode() in data
    assert data.count(line.encode()) == 2000 - dropped
