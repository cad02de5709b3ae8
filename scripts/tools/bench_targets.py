"""The benchmark's targets, checked against the figures of one run and printed beside them.

Latency and CPU targets concern OpenAI chat; the throughput target concerns a fleet
(`--workers 2` or more) at concurrency 256. With `--floor`, the service's CPU per realistic
stream at concurrency 64 is also compared with the floor's measured in the same run (a ratio,
so that the load of a shared machine weighs on both alike). A target whose level was not
measured in the run is shown as such, not as met.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scripts.tools.bench_report import LevelFigures

RSS_LIMIT_MB = 150.0
# Service CPU per realistic stream at c=64 ÷ the floor's: what the service's own code may add.
FLOOR_CPU_RATIO_LIMIT = 1.15
FLOOR_CPU_RATIO_CONCURRENCY = 64
# Differences below this share are within run-to-run spread on a shared machine.
FAST_TOLERANCE = 0.10


@dataclass(frozen=True)
class Target:
    name: str
    concurrency: int
    figure: Callable[[LevelFigures], float]
    limit: float
    at_least: bool = False
    fleet: bool = False


TARGETS = (
    Target("realistic ΔTTFT p99 ms", 64, lambda row: row.overhead_p99_ms, 10.0),
    Target("realistic ΔTTFT p50 ms", 64, lambda row: row.overhead_p50_ms, 2.0),
    Target("realistic ΔTTFT p50 ms", 1, lambda row: row.overhead_p50_ms, 1.5),
    Target("service CPU ms per realistic stream", 64, lambda row: row.service_cpu_ms_per_call, 2.0),
    # How late the service's event loop ran a timer during the measured rounds: a stall of the
    # loop delays every stream on it.
    Target("service loop lag p99 ms", 64, lambda row: row.lag_p99_ms, 5.0),
    Target("service loop lag max ms", 64, lambda row: row.lag_max_ms, 25.0),
    Target(
        "streams/s through the fleet ÷ direct",
        256,
        lambda row: row.service_per_second / row.direct_per_second if row.direct_per_second else 0,
        0.95,
        at_least=True,
        fleet=True,
    ),
    Target("errors", 256, lambda row: row.errors, 0.0, fleet=True),
)


# The provider name of the floor's rows (`--floor`: grpc.aio and aiohttp with no service code).
FLOOR = "floor"


def _row(rows: list[LevelFigures], target: Target, provider: str = "openai") -> LevelFigures | None:
    for row in rows:
        if (
            row.mode == "realistic"
            and row.operation == "chat"
            and row.provider == provider
            and row.transport == "aiohttp"
            and row.concurrency == target.concurrency
            and (row.workers > 1) == target.fleet
        ):
            return row
    return None


def _verdict(value: float, limit: float, at_least: bool) -> str:
    met = value >= limit if at_least else value <= limit
    return "yes" if met else f"no (by {abs(value - limit):.3g})"


def targets_table(rows: list[LevelFigures]) -> str:
    """One line per target: the figure measured, the bound and whether it holds; with `--floor`,
    the same figure for a bare grpc.aio and aiohttp proxy measured in the same run."""
    lines = [
        "| target | c | measured | floor (no service code) | bound | met |",
        "|---|---|---|---|---|---|",
    ]
    for target in TARGETS:
        row, floor = _row(rows, target), _row(rows, target, FLOOR)
        floor_text = f"{target.figure(floor):.3g}" if floor is not None else "-"
        bound = ("≥ " if target.at_least else "≤ ") + f"{target.limit:g}"
        if row is None:
            lines.append(
                f"| {target.name} | {target.concurrency} | not measured | {floor_text} | {bound}"
                " | - |"
            )
            continue
        value = target.figure(row)
        verdict = _verdict(value, target.limit, target.at_least)
        lines.append(
            f"| {target.name} | {target.concurrency} | {value:.3g} | {floor_text} | {bound}"
            f" | {verdict} |"
        )
    lines += _floor_relative_lines(rows)
    ratio = floor_cpu_ratio(rows)
    if ratio is not None:
        verdict = _verdict(ratio, FLOOR_CPU_RATIO_LIMIT, at_least=False)
        lines.append(
            "| service CPU per realistic stream ÷ floor's | "
            f"{FLOOR_CPU_RATIO_CONCURRENCY} | {ratio:.3g} | 1 | ≤ {FLOOR_CPU_RATIO_LIMIT:g}"
            f" | {verdict} |"
        )
    service_rows = [row for row in rows if row.provider != FLOOR]
    if service_rows:
        peak = max(row.peak_rss_mb for row in service_rows)
        verdict = _verdict(peak, RSS_LIMIT_MB, at_least=False)
        lines.append(
            f"| peak RSS MB per process | all | {peak} | - | ≤ {RSS_LIMIT_MB:g} | {verdict} |"
        )
    return "\n".join(lines)


def _floor_relative_lines(rows: list[LevelFigures]) -> list[str]:
    """ΔTTFT at c=64 against bounds drawn from the floor's own figures in the same run: p99 at
    most 1.5 times the floor's plus 5 ms, p50 at most the floor's plus 1 ms."""
    p99 = Target("p99", FLOOR_CPU_RATIO_CONCURRENCY, lambda row: row.overhead_p99_ms, 0)
    row, floor = _row(rows, p99), _row(rows, p99, FLOOR)
    if row is None or floor is None:
        return []
    p99_bound = 1.5 * floor.overhead_p99_ms + 5.0
    p50_bound = floor.overhead_p50_ms + 1.0
    return [
        f"| realistic ΔTTFT p99 ms ≤ 1.5 x floor's + 5 | {row.concurrency} |"
        f" {row.overhead_p99_ms:.3g} | {floor.overhead_p99_ms:.3g} | ≤ {p99_bound:.3g} |"
        f" {_verdict(row.overhead_p99_ms, p99_bound, at_least=False)} |",
        f"| realistic ΔTTFT p50 ms ≤ floor's + 1 | {row.concurrency} |"
        f" {row.overhead_p50_ms:.3g} | {floor.overhead_p50_ms:.3g} | ≤ {p50_bound:.3g} |"
        f" {_verdict(row.overhead_p50_ms, p50_bound, at_least=False)} |",
    ]


def floor_cpu_ratio(rows: list[LevelFigures]) -> float | None:
    """The service's CPU per realistic chat stream at c=64 as a multiple of the floor's, both
    from this run; None without `--floor` or that level."""
    level = Target("cpu", FLOOR_CPU_RATIO_CONCURRENCY, lambda row: row.service_cpu_ms_per_call, 0)
    row, floor = _row(rows, level), _row(rows, level, FLOOR)
    if row is None or floor is None or floor.service_cpu_ms_per_call <= 0:
        return None
    return row.service_cpu_ms_per_call / floor.service_cpu_ms_per_call


_LOWER_IS_BETTER = ("overhead_p50_ms", "overhead_p99_ms", "service_cpu_ms_per_call")


def fast_regressions(rows: list[LevelFigures], baseline: list[dict[str, object]]) -> str:
    """Fast-mode figures worse than the baseline run's by more than the tolerance."""

    def key(values: dict[str, object]) -> tuple[object, ...]:
        fields = ("operation", "provider", "transport", "concurrency")
        return tuple(values.get(name) for name in fields)

    before = {key(values): values for values in baseline if values.get("mode", "fast") == "fast"}
    worse = []
    for row in rows:
        earlier = before.get(key(row.as_dict())) if row.mode == "fast" else None
        if earlier is None:
            continue
        for name in _LOWER_IS_BETTER:
            now, then = float(getattr(row, name)), float(str(earlier[name]))
            if now > then * (1 + FAST_TOLERANCE) and now - then > 0.5:
                worse.append(f"- {row.operation} c={row.concurrency} {name}: {then} → {now}")
    return "\n".join(worse) or "no fast-mode figure worse than the baseline beyond the spread"
