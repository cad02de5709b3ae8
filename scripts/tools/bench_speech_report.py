"""Figures of one speech benchmark level, the tables the benchmark prints and the targets."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scripts.tools.bench_load import RoundResult
from scripts.tools.bench_report import percentile

# Targets: the first transcript and the first audio byte through the service at most 5 ms (p50)
# and 15 ms (p99) after the direct call's at 32 concurrent sessions arriving spread out, and
# Synthesize's CPU in the service before its first audio byte at most 1 ms.
TARGET_CONCURRENCY = 32
TARGET_ARRIVALS = "spread"
TARGET_OVERHEAD_P50_MS = 5.0
TARGET_OVERHEAD_P99_MS = 15.0
TARGET_FIRST_BYTE_CPU_MS = 1.0
_FIRST = {
    "transcribe": "first transcript",
    "synthesize": "first audio byte",
    "synthesize_stream": "first audio byte",
}


@dataclass(frozen=True)
class SpeechFigures:
    """One operation at one concurrency: sessions against the fake and the same through us."""

    arrivals: str
    operation: str
    concurrency: int
    direct_p50_ms: float
    service_p50_ms: float
    overhead_p50_ms: float
    direct_p99_ms: float
    service_p99_ms: float
    overhead_p99_ms: float
    sessions: int
    errors: int
    service_cpu_ms_per_session: float
    service_cpu_ms_per_audio_second: float
    direct_client_cpu_ms_per_audio_second: float
    upstream_cpu_ms_per_session: float
    peak_rss_mb: float
    rss_growth_kb_per_session: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Usage:
    """What the service, the direct client and the fake used during a level's measured rounds."""

    service_cpu_seconds: float
    direct_client_cpu_seconds: float
    direct_audio_seconds: float
    upstream_cpu_seconds: float
    audio_seconds: float
    rss_before_mb: float
    peak_rss_mb: float


@dataclass(frozen=True)
class FirstByteCpu:
    """The service's CPU from a Synthesize call to its first audio byte, calls one at a time."""

    calls: int
    p50_ms: float
    p90_ms: float


def speech_figures(
    arrivals: str,
    operation: str,
    concurrency: int,
    direct: RoundResult,
    service: RoundResult,
    usage: Usage,
) -> SpeechFigures:
    def ms(value: float) -> float:
        return round(value * 1000, 3)

    direct_p50, direct_p99 = percentile(direct.firsts, 0.5), percentile(direct.firsts, 0.99)
    service_p50, service_p99 = percentile(service.firsts, 0.5), percentile(service.firsts, 0.99)
    sessions = max(1, service.completed)
    growth_kb = (usage.peak_rss_mb - usage.rss_before_mb) * 1024 / concurrency
    return SpeechFigures(
        arrivals=arrivals,
        operation=operation,
        concurrency=concurrency,
        direct_p50_ms=ms(direct_p50),
        service_p50_ms=ms(service_p50),
        overhead_p50_ms=ms(service_p50 - direct_p50),
        direct_p99_ms=ms(direct_p99),
        service_p99_ms=ms(service_p99),
        overhead_p99_ms=ms(service_p99 - direct_p99),
        sessions=direct.completed + service.completed,
        errors=direct.errors + service.errors,
        service_cpu_ms_per_session=round(usage.service_cpu_seconds * 1000 / sessions, 3),
        service_cpu_ms_per_audio_second=round(
            usage.service_cpu_seconds * 1000 / max(usage.audio_seconds, 1e-9), 3
        ),
        direct_client_cpu_ms_per_audio_second=round(
            usage.direct_client_cpu_seconds * 1000 / max(usage.direct_audio_seconds, 1e-9), 3
        ),
        upstream_cpu_ms_per_session=round(
            usage.upstream_cpu_seconds * 1000 / max(1, direct.completed + service.completed), 3
        ),
        peak_rss_mb=round(usage.peak_rss_mb, 1),
        rss_growth_kb_per_session=round(max(0.0, growth_kb), 1),
    )


_HEADER = (
    "| arrivals | operation | c | first p50 direct | first p50 service | overhead p50 | "
    "first p99 direct | first p99 service | overhead p99 | sessions | errors | "
    "service CPU ms/session | service CPU ms/audio s | direct client CPU ms/audio s | "
    "upstream CPU ms/session | peak RSS MB | RSS growth KB/session |"
)


def speech_table(rows: list[SpeechFigures]) -> str:
    """One line per operation and concurrency; "first" is the first transcript or audio byte."""
    lines = [_HEADER, "|" + "---|" * (_HEADER.count("|") - 1)]
    for row in rows:
        cells = list(row.as_dict().values())
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _met(measured: float, limit: float) -> str:
    return "yes" if measured <= limit else f"no, by {measured - limit:.1f} ms"


def speech_targets(rows: list[SpeechFigures], first_byte: FirstByteCpu | None) -> str:
    """Each target next to the measured figure: p50 and p99 overheads at 32 sessions arriving
    spread out, per operation, and Synthesize's CPU before its first byte."""
    lines = ["| target | measured | met |", "| --- | --- | --- |"]
    for row in rows:
        if row.concurrency != TARGET_CONCURRENCY or row.arrivals != TARGET_ARRIVALS:
            continue
        where = f"at c={TARGET_CONCURRENCY}, {TARGET_ARRIVALS}"
        errors = f", {row.errors} errors" if row.errors else ""
        for quantile, measured, limit in (
            ("p50", row.overhead_p50_ms, TARGET_OVERHEAD_P50_MS),
            ("p99", row.overhead_p99_ms, TARGET_OVERHEAD_P99_MS),
        ):
            met = _met(measured, limit) if not row.errors else "no (errors)"
            target = f"{row.operation}: Δ {_FIRST[row.operation]} {quantile} ≤ {limit:g} ms {where}"
            lines.append(f"| {target} | {measured} ms{errors} | {met} |")
    if first_byte is not None:
        target = f"synthesize: service CPU before the first byte ≤ {TARGET_FIRST_BYTE_CPU_MS:g} ms"
        spent = (
            f"{first_byte.p50_ms} ms p50 ({first_byte.p90_ms} p90, {first_byte.calls} calls alone)"
        )
        lines.append(
            f"| {target} | {spent} | {_met(first_byte.p50_ms, TARGET_FIRST_BYTE_CPU_MS)} |"
        )
    return "\n".join(lines)
