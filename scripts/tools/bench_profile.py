"""Profiles the service while the benchmark loads it, and sums the samples by module and function.

py-spy (not a project dependency; `pip install py-spy` into the venv) samples the service
process; its collapsed stacks are then read two ways: the share of samples in which a function
appears anywhere on the stack (inclusive), and the share in which a module owns the innermost
frame (self time by module), which shows where the CPU goes.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")
_SYSCALLS = frozenset({"sendmsg", "recv", "send", "write", "read", "recvmsg", "getpid"})
# Path fragments → component, first match wins.
_COMPONENTS = (
    ("cygrpc", "gRPC runtime (grpc.aio, Cython, C core)"),
    ("libgrpc", "gRPC runtime (grpc.aio, Cython, C core)"),
    ("/grpc/", "gRPC runtime (grpc.aio, Cython, C core)"),
    ("betterproto2/", "message encoding (betterproto2)"),
    ("google/protobuf", "message encoding (protobuf runtime)"),
    ("aiohttp/", "provider HTTP client (aiohttp, multidict, yarl)"),
    ("multidict", "provider HTTP client (aiohttp, multidict, yarl)"),
    ("yarl", "provider HTTP client (aiohttp, multidict, yarl)"),
    ("json/", "JSON decoding"),
    ("_json", "JSON decoding"),
    ("jwt/", "caller authentication (JWT)"),
    ("structlog/", "logging (structlog)"),
    ("prometheus_client/", "metrics (prometheus_client)"),
    ("asyncpg/", "database (asyncpg)"),
    ("cryptography/", "vault (AES-GCM)"),
    ("interceptor.py", "integration_api.server"),
    ("asyncio/", "asyncio event loop"),
    ("_asynciomodule", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
)
_GENERIC = "interpreter and standard library"


async def record(pid: int, seconds: float, output: Path) -> bool:
    """Sample `pid` for `seconds` into collapsed stacks at `output`; False without py-spy."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        return False
    process = await asyncio.create_subprocess_exec(
        spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "200",
        "--format",
        "raw",
        # Native frames show what grpc's Cython and C core do; they need the process paused.
        "--native",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await process.wait() == 0


def owner(frame: str) -> str:
    """The component a frame belongs to (generic for interpreter and standard-library frames)."""
    match = _FRAME.match(frame.strip())
    path = match.group("file") if match else frame
    function = match.group("function") if match else frame
    if "libc.so" in path and function in _SYSCALLS:
        return "socket system calls"
    if "integration_api/" in path and "integration_api_proto" not in path:
        part = path.split("integration_api/", 1)[-1]
        return "integration_api." + part.split("/", 1)[0].removesuffix(".py")
    for fragment, component in _COMPONENTS:
        if fragment in path:
            return component
    return _GENERIC


def component_of(frames: list[str]) -> str:
    """The innermost named component on a stack; generic frames count for their caller."""
    for frame in reversed(frames):
        name = owner(frame)
        if name != _GENERIC:
            return name
    return _GENERIC


def _idle(frame: str) -> bool:
    return frame.startswith(("epoll_wait ", "poll ", "select "))


def summarize(collapsed: Path, top: int = 25) -> str:
    """Busy CPU by component, and inclusive time of our own functions, as shares of samples."""
    by_component: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if _idle(frames[-1]):
            continue
        total += count
        by_component[component_of(frames)] += count
        for frame in {frame for frame in frames if owner(frame).startswith("integration_api")}:
            inclusive[frame] += count
    if not total:
        return "no samples"
    lines = ["busy CPU by component (share of samples, idle waits left out):"]
    lines += [f"  {name:55s} {count / total:6.1%}" for name, count in by_component.most_common()]
    lines.append("inclusive time of the service's own functions:")
    lines += [f"  {count / total:6.1%}  {frame}" for frame, count in inclusive.most_common(top)]
    return "\n".join(lines)
