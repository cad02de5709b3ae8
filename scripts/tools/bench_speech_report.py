"""Figures of one speech benchmark level, the table the benchmark prints and the target."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from scripts.tools.bench_load import RoundResult
from scripts.tools.bench_report import percentile

# Issue target: time to first transcript and first audio byte through the service at most
# 5 ms (p50) over direct at 32 concurrent sessions.
TARGET_CONCURRENCY = 32
TARGET_OVERHEAD_P50_MS = 5.0


@dataclass(frozen=True)
class SpeechFigures:
    """One operation at one concurrency: sessions against the fake and the same through us."""

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
    upstream_cpu_ms_per_session: float
    peak_rss_mb: float
    rss_growth_kb_per_session: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Usage:
    """What the service and the fake used during a level's measured rounds."""

    service_cpu_seconds: float
    upstream_cpu_seconds: float
    audio_seconds: float
    rss_before_mb: float
    peak_rss_mb: float


def speech_figures(
    operation: str, concurrency: int, direct: RoundResult, service: RoundResult, usage: Usage
) -> SpeechFigures:
    def ms(value: float) -> float:
        return round(value * 1000, 3)

    direct_p50, direct_p99 = percentile(direct.firsts, 0.5), percentile(direct.firsts, 0.99)
    service_p50, service_p99 = percentile(service.firsts, 0.5), percentile(service.firsts, 0.99)
    sessions = max(1, service.completed)
    growth_kb = (usage.peak_rss_mb - usage.rss_before_mb) * 1024 / concurrency
    return SpeechFigures(
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
        upstream_cpu_ms_per_session=round(
            usage.upstream_cpu_seconds * 1000 / max(1, direct.completed + service.completed), 3
        ),
        peak_rss_mb=round(usage.peak_rss_mb, 1),
        rss_growth_kb_per_session=round(max(0.0, growth_kb), 1),
    )


_HEADER = (
    "| operation | c | first p50 direct | first p50 service | overhead p50 | first p99 direct | "
    "first p99 service | overhead p99 | sessions | errors | service CPU ms/session | "
    "service CPU ms/audio s | upstream CPU ms/session | peak RSS MB | RSS growth KB/session |"
)


def speech_table(rows: list[SpeechFigures]) -> str:
    """One line per operation and concurrency; "first" is the first transcript or audio byte."""
    lines = [_HEADER, "|" + "---|" * (_HEADER.count("|") - 1)]
    for row in rows:
        cells = list(row.as_dict().values())
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def speech_targets(rows: list[SpeechFigures]) -> str:
    """The p50 overhead target at 32 sessions, per operation, next to the measured figure."""
    lines = ["| target | measured | met |", "| --- | --- | --- |"]
    for row in rows:
        if row.concurrency != TARGET_CONCURRENCY:
            continue
        met = "yes" if row.overhead_p50_ms <= TARGET_OVERHEAD_P50_MS and not row.errors else "no"
        target = (
            f"{row.operation} first-event overhead p50 ≤ {TARGET_OVERHEAD_P50_MS:g} ms "
            f"at c={TARGET_CONCURRENCY}"
        )
        lines.append(f"| {target} | {row.overhead_p50_ms} ms, {row.errors} errors | {met} |")
    return "\n".join(lines)
