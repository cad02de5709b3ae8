"""Figures of one benchmark level, and the tables the benchmark prints."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from scripts.tools.bench_load import RoundResult


def percentile(values: list[float], quantile: float) -> float:
    """Nearest-rank percentile (0 when there are no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(quantile * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class LevelFigures:
    """One concurrency level: the direct calls against the upstream and the same through us."""

    operation: str
    transport: str
    concurrency: int
    direct_p50_ms: float
    direct_p99_ms: float
    service_p50_ms: float
    service_p99_ms: float
    overhead_p50_ms: float
    overhead_p99_ms: float
    total_p50_ms: float
    direct_per_second: float
    service_per_second: float
    chunks_per_second: float
    errors: int
    service_cpu_ms_per_call: float
    upstream_cpu_ms_per_call: float
    peak_rss_mb: float
    provider: str = "openai"
    mode: str = "fast"
    workers: int = 1
    # What held the serving process's event loop during the measured rounds (`bench_stalls.py`).
    lag_p50_ms: float = 0.0
    lag_p99_ms: float = 0.0
    lag_max_ms: float = 0.0
    gc_collections: tuple[int, ...] = (0, 0, 0)
    gc_longest_ms: tuple[float, ...] = (0.0, 0.0, 0.0)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def figures(
    operation: str,
    transport: str,
    concurrency: int,
    direct: RoundResult,
    service: RoundResult,
    service_cpu_seconds: float,
    upstream_cpu_ms_per_call: float,
    peak_rss_mb: float,
    provider: str = "openai",
) -> LevelFigures:
    def ms(value: float) -> float:
        return round(value * 1000, 3)

    direct_p50, direct_p99 = percentile(direct.firsts, 0.5), percentile(direct.firsts, 0.99)
    service_p50, service_p99 = percentile(service.firsts, 0.5), percentile(service.firsts, 0.99)
    return LevelFigures(
        operation=operation,
        transport=transport,
        concurrency=concurrency,
        direct_p50_ms=ms(direct_p50),
        direct_p99_ms=ms(direct_p99),
        service_p50_ms=ms(service_p50),
        service_p99_ms=ms(service_p99),
        overhead_p50_ms=ms(service_p50 - direct_p50),
        overhead_p99_ms=ms(service_p99 - direct_p99),
        total_p50_ms=ms(percentile(service.totals, 0.5)),
        direct_per_second=round(direct.completed / direct.wall, 1) if direct.wall else 0.0,
        service_per_second=round(service.completed / service.wall, 1) if service.wall else 0.0,
        chunks_per_second=round(service.chunks / service.wall, 1) if service.wall else 0.0,
        errors=direct.errors + service.errors,
        service_cpu_ms_per_call=round(service_cpu_seconds * 1000 / max(1, service.completed), 3),
        upstream_cpu_ms_per_call=round(upstream_cpu_ms_per_call, 3),
        peak_rss_mb=round(peak_rss_mb, 1),
        provider=provider,
    )


_CHAT_HEADER = (
    "| c | TTFT p50 direct | TTFT p50 service | overhead p50 | TTFT p99 direct | "
    "TTFT p99 service | overhead p99 | total p50 | streams/s direct | streams/s service | "
    "chunks/s service | errors | service CPU ms/stream | upstream CPU ms/stream | peak RSS MB |"
)
_EMBED_HEADER = (
    "| c | latency p50 direct | latency p50 service | overhead p50 | latency p99 direct | "
    "latency p99 service | overhead p99 | total p50 | calls/s direct | calls/s service | "
    "vectors/s service | errors | service CPU ms/call | upstream CPU ms/call | peak RSS MB |"
)


def table(rows: list[LevelFigures]) -> str:
    """A markdown table of one operation and transport, one line per concurrency."""
    header = _CHAT_HEADER if rows and rows[0].operation == "chat" else _EMBED_HEADER
    lines = [header, _rule(header)]
    for row in rows:
        cells = [
            row.concurrency,
            row.direct_p50_ms,
            row.service_p50_ms,
            row.overhead_p50_ms,
            row.direct_p99_ms,
            row.service_p99_ms,
            row.overhead_p99_ms,
            row.total_p50_ms,
            row.direct_per_second,
            row.service_per_second,
            row.chunks_per_second,
            row.errors,
            row.service_cpu_ms_per_call,
            row.upstream_cpu_ms_per_call,
            row.peak_rss_mb,
        ]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def stalls_table(rows: list[LevelFigures]) -> str:
    """Loop lag and GC pauses of the service and the floor, per level, during measured rounds."""
    header = (
        "| process | c | loop lag p50 ms | loop lag p99 ms | loop lag max ms | "
        "GC gen 0: n, longest ms | gen 1 | gen 2 |"
    )
    lines = [header, _rule(header)]
    for row in rows:
        collections = [
            f"{count}, {longest}"
            for count, longest in zip(row.gc_collections, row.gc_longest_ms, strict=True)
        ]
        cells = [row.provider, row.concurrency, row.lag_p50_ms, row.lag_p99_ms, row.lag_max_ms]
        lines.append("| " + " | ".join(str(cell) for cell in [*cells, *collections]) + " |")
    return "\n".join(lines)


def cpu_comparison(rows: list[LevelFigures], baseline: str = "openai") -> str:
    """Service CPU per chat stream of each provider next to the baseline's, with the ratio."""
    cpu = {
        (row.provider, row.transport, row.concurrency): row.service_cpu_ms_per_call
        for row in rows
        if row.operation == "chat"
    }
    others = sorted({provider for provider, _, _ in cpu} - {baseline})
    columns = [f"{name} CPU ms/stream | {name} / {baseline}" for name in others]
    header = f"| transport | c | {baseline} CPU ms/stream | " + " | ".join(columns) + " |"
    lines = [header, _rule(header)]
    for (provider, transport, concurrency), base in cpu.items():
        if provider != baseline:
            continue
        cells: list[object] = [transport, concurrency, base]
        for name in others:
            theirs = cpu.get((name, transport, concurrency), 0.0)
            cells += [theirs, f"{theirs / base:.2f}x" if base else "-"]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _rule(header: str) -> str:
    return "|" + "---|" * (header.count("|") - 1)


def machine() -> str:
    """The CPU, core count, Python and the library versions that shape the figures."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    cores = len([line for line in cpuinfo.read_text().splitlines() if line.startswith("processor")])
    libraries = ", ".join(
        f"{name} {version(name)}"
        for name in ("grpcio", "betterproto2", "aiohttp", "yarl", "multidict")
    )
    return f"{model}, {cores} cores; Python {platform.python_version()}; {libraries}"
