"""The benchmark's processes: start them, read what they print, measure their CPU and memory."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

TOOLS = Path(__file__).resolve().parent
ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Child:
    """A started helper process and the JSON line it announced itself with."""

    process: asyncio.subprocess.Process
    announced: dict[str, object]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        return int(str(self.announced["port"]))

    @property
    def serving_pids(self) -> list[int]:
        """The processes that do the work: the announced workers, or the process itself."""
        announced = self.announced.get("pids")
        if isinstance(announced, list) and announced:
            return [int(pid) for pid in announced]
        return [self.pid]

    def cpu_seconds(self) -> float:
        """User plus system CPU time the serving processes have used so far."""
        total = 0
        for pid in self.serving_pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / _CLOCK_TICKS

    def precise_cpu_seconds(self) -> float:
        """CPU time of every thread of the serving processes, in nanoseconds' precision
        (`/proc/<pid>/task/*/schedstat`), where `cpu_seconds` counts in 10 ms ticks."""
        total = 0
        for pid in self.serving_pids:
            for task in Path(f"/proc/{pid}/task").iterdir():
                with suppress(FileNotFoundError):  # a thread that ended meanwhile
                    total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    def rss_mb(self) -> float:
        """The resident memory of the largest serving process (per worker, with several)."""
        largest = 0
        for pid in self.serving_pids:
            largest = max(largest, int(Path(f"/proc/{pid}/statm").read_text().split()[1]))
        return largest * _PAGE_KB / 1024


@asynccontextmanager
async def child(script: str, arguments: Sequence[str], env: dict[str, str]) -> AsyncIterator[Child]:
    """Run `scripts/tools/<script>` with the venv's Python until the block ends (as a module of
    the repository, so that it can import the benchmark's other tools)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "scripts.tools." + script.removesuffix(".py")),
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, **env},
        cwd=TOOLS.parent.parent,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"{script} exited before it was ready")
        yield Child(process, json.loads(line))
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A new empty database on the local PostgreSQL for one run; dropped afterwards."""
    name = "bench_" + secrets.token_hex(6)
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield urlunsplit(urlsplit(ADMIN_DSN)._replace(path="/" + name))
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@dataclass
class RssSampler:
    """Samples a process's resident memory while a phase runs; keeps the highest value."""

    target: Child
    interval: float = 0.02
    peak_mb: float = 0.0
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def _run(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, self.target.rss_mb())
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.peak_mb = max(self.peak_mb, self.target.rss_mb())
