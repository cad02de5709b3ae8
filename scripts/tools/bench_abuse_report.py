"""The figures of one phase of `scripts/bench --abuse`, and the report printed after both."""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from dataclasses import dataclass, field

from scripts.tools.bench_abuse_load import HealthProbe
from scripts.tools.bench_load import RoundResult
from scripts.tools.bench_report import machine, percentile

HEALTH_TARGET_MS = 50.0
TAIL_TARGET = 1.5


@dataclass
class PhaseFigures:
    name: str
    calls: int = 0
    completed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    # None when no chat completed
    ttft_ms: tuple[float, float] | None = None
    delta_ttft_ms: tuple[float, float] | None = None
    health_checks: int = 0
    health_p99_ms: float = 0.0
    health_max_ms: float = 0.0
    health_failures: dict[str, int] = field(default_factory=dict)
    # The machine's 1-minute load average at the end: other work on the machine shows here.
    load_average: float = 0.0
    audit_rows: int = 0
    anonymous_audit_rows: int = 0
    descriptors_before: int = 0
    descriptors_after: int = 0
    abuse_seconds: float = 0.0
    # requested, answered, still open at the end
    watches: tuple[int, int, int] = (0, 0, 0)
    watch_refusals: dict[str, int] = field(default_factory=dict)
    # requested, connected, still open at the end
    slow: tuple[int, int, int] = (0, 0, 0)
    slow_closed_after: list[float] = field(default_factory=list)
    flood: dict[str, int] = field(default_factory=dict)
    # completed, refused, failed otherwise
    second: tuple[int, int, dict[str, int]] = (0, 0, {})

    def record(
        self, result: RoundResult, reasons: Counter[str], probe: HealthProbe, first_delay: float
    ) -> None:
        def ms(value: float) -> float:
            return round(value * 1000, 1)

        self.completed = result.completed
        self.calls = result.completed + result.errors
        self.errors = dict(reasons)
        if result.firsts:
            p50, p99 = percentile(result.firsts, 0.5), percentile(result.firsts, 0.99)
            self.ttft_ms = (ms(p50), ms(p99))
            self.delta_ttft_ms = (ms(p50 - first_delay), ms(p99 - first_delay))
        self.health_checks = len(probe.latencies)
        self.health_p99_ms = ms(percentile(probe.latencies, 0.99))
        self.health_max_ms = ms(max(probe.latencies, default=0.0))
        self.health_failures = dict(probe.failures)
        self.load_average = round(os.getloadavg()[0], 1)

    @property
    def success(self) -> float:
        return 100.0 * self.completed / self.calls if self.calls else 0.0


def _tally(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) or "none"


def _pair(values: tuple[float, float] | None) -> str:
    return f"{values[0]} / {values[1]}" if values is not None else "no chat completed"


def _phases(quiet: PhaseFigures, abused: PhaseFigures) -> str:
    lines = [
        "| run | chats | success | TTFT p50 / p99 (ms) | ΔTTFT p50 / p99 (ms) "
        "| health Check p99 / max (ms) | Check failures | audit rows added | load average |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in (quiet, abused):
        lines.append(
            f"| {row.name} | {row.calls} | {row.success:.1f} % "
            f"| {_pair(row.ttft_ms)} | {_pair(row.delta_ttft_ms)} "
            f"| {row.health_p99_ms} / {row.health_max_ms} "
            f"| {_tally(row.health_failures)} | {row.audit_rows} | {row.load_average} |"
        )
    return "\n".join(lines)


def _abusers(abused: PhaseFigures) -> str:
    closed = sorted(abused.slow_closed_after)
    first_close = f"{closed[0]:.1f} s" if closed else "-"
    second_completed, second_refused, second_failed = abused.second
    return "\n".join(
        [
            f"- first tenant's failed chats: {_tally(abused.errors)}",
            f"- Watch streams without a token: {abused.watches[0]} asked for, {abused.watches[1]} "
            f"answered, {abused.watches[2]} still open after {abused.abuse_seconds:.0f} s; "
            f"refused: {_tally(abused.watch_refusals)}",
            f"- slow-header connections to the callback shim: {abused.slow[1]} of "
            f"{abused.slow[0]} connected, {abused.slow[2]} still open after "
            f"{abused.abuse_seconds:.0f} s (first closed after {first_close}); service file "
            f"descriptors {abused.descriptors_before} → {abused.descriptors_after}",
            f"- unknown-state callbacks: {sum(abused.flood.values())} sent, answers "
            f"{_tally(abused.flood)}; audit rows added: {abused.audit_rows} "
            f"({abused.anonymous_audit_rows} by an anonymous callback)",
            f"- second tenant at its cap: {second_completed} chats completed, "
            f"{second_refused} refused at the cap, other failures: {_tally(second_failed)}",
        ]
    )


def _targets(quiet: PhaseFigures, abused: PhaseFigures) -> str:
    def verdict(met: bool) -> str:
        return "met" if met else "**missed**"

    quiet_tail = quiet.delta_ttft_ms[1] if quiet.delta_ttft_ms else 0.0
    tail = abused.delta_ttft_ms[1] if abused.delta_ttft_ms else None
    tail_limit = round(TAIL_TARGET * quiet_tail, 1)
    health_ok = not abused.health_failures and abused.health_max_ms <= HEALTH_TARGET_MS
    rows = [
        ("first tenant's success 100 %", f"{abused.success:.1f} %", abused.success == 100.0),
        (
            f"ΔTTFT p99 within {TAIL_TARGET} times the quiet run (≤ {tail_limit} ms)",
            f"{tail} ms" if tail is not None else "no chat completed",
            tail is not None and tail <= tail_limit,
        ),
        (
            f"health Check answered within {HEALTH_TARGET_MS:.0f} ms throughout",
            f"max {abused.health_max_ms} ms, failures: {_tally(abused.health_failures)}",
            health_ok,
        ),
        ("no audit rows from the flood", str(abused.anonymous_audit_rows), not abused.audit_rows),
    ]
    lines = ["| target | abuse run | verdict |", "| --- | --- | --- |"]
    lines += [f"| {target} | {value} | {verdict(met)} |" for target, value, met in rows]
    return "\n".join(lines)


def report(arguments: argparse.Namespace, quiet: PhaseFigures, abused: PhaseFigures) -> str:
    started = time.strftime("%a %b %d %H:%M:%S %Z %Y")
    setup = (
        f"{arguments.seconds:.0f} s per run; the first tenant: {arguments.concurrency} chats at "
        f"a time, {arguments.chunks} chunks, first text after {arguments.first_delay_ms:.0f} ms; "
        f"abuse: {arguments.watch_streams} Watch streams, {arguments.slow_connections} "
        f"slow-header connections, {arguments.flood_concurrency} flooding callers at "
        f"{arguments.flood_rate or 'unpaced'} callbacks/s in all, a second "
        f"tenant with {arguments.cap + arguments.cap_excess} callers at a cap of {arguments.cap}"
    )
    return "\n\n".join(
        [
            f"# integration-api abuse benchmark, {started}",
            machine(),
            setup,
            _phases(quiet, abused),
            _abusers(abused),
            "## Targets",
            _targets(quiet, abused),
        ]
    )
