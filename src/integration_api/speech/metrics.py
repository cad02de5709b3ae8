"""Prometheus metrics of speech sessions, per provider: open, outcome, latency, audio moved.

Labels are the provider and the operation only (never a voice or a model a caller names), so
the series are bounded by the provider registry. Latencies are those a voice agent feels: from
the first audio handed to the provider to its first transcript, and from the text handed to
it to the first audio byte back. Audio is counted in seconds as it passes, so a long session
shows up while it runs; compressed audio (mp3, opus) has no length without decoding and is
not counted. With several workers the open sessions are summed over the running workers.
"""

from __future__ import annotations

import time
from functools import cache
from types import TracebackType

from prometheus_client import Counter, Gauge, Histogram

from integration_api.llm.pipeline import outcome_of
from integration_api.speech.contract import AudioFormat

TRANSCRIBE = "transcribe"
SYNTHESIZE = "synthesize"
SYNTHESIZE_STREAM = "synthesize_stream"

_LATENCY_BUCKETS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30)

SESSIONS_OPEN = Gauge(
    "integration_api_speech_sessions_open",
    "Speech sessions with a provider open now, by operation.",
    ["provider", "operation"],
    multiprocess_mode="livesum",
)
SESSIONS = Counter(
    "integration_api_speech_sessions_total",
    "Speech sessions ended, by operation and outcome (ok, or the status code).",
    ["provider", "operation", "outcome"],
)
TIME_TO_FIRST_TRANSCRIPT = Histogram(
    "integration_api_speech_time_to_first_transcript_seconds",
    "From the first audio handed to the provider to its first transcript (interim or final).",
    ["provider"],
    buckets=_LATENCY_BUCKETS,
)
TIME_TO_FIRST_AUDIO = Histogram(
    "integration_api_speech_time_to_first_audio_byte_seconds",
    "From the first text handed to the provider to the first audio byte back.",
    ["provider", "operation"],
    buckets=_LATENCY_BUCKETS,
)
AUDIO_SECONDS = Counter(
    "integration_api_speech_audio_seconds_total",
    "Seconds of raw audio moved: in (to be transcribed) and out (synthesized).",
    ["provider", "direction"],
)


class _Series:
    """The labelled series of one provider and operation, looked up once per process: a
    `labels()` lookup costs microseconds, several per session on the way to its first byte."""

    def __init__(self, provider: str, operation: str) -> None:
        self.open = SESSIONS_OPEN.labels(provider, operation)
        self.audio = AUDIO_SECONDS.labels(provider, "in" if operation == TRANSCRIBE else "out")
        self.first_transcript = TIME_TO_FIRST_TRANSCRIPT.labels(provider)
        self.first_audio = TIME_TO_FIRST_AUDIO.labels(provider, operation)
        self._provider = provider
        self._operation = operation
        # By outcome: "ok", "cancelled" or a status code name, so a handful at most.
        self._ended: dict[str, Counter] = {}

    def ended(self, outcome: str) -> Counter:
        series = self._ended.get(outcome)
        if series is None:
            series = SESSIONS.labels(self._provider, self._operation, outcome)
            self._ended[outcome] = series
        return series


@cache
def _series(provider: str, operation: str) -> _Series:
    # Bounded by the provider registry and the three operations.
    return _Series(provider, operation)


class SessionMetrics:
    """The metrics of one provider session, around its whole life (a `with` block)."""

    def __init__(self, provider: str, operation: str, audio: AudioFormat) -> None:
        self._series = _series(provider, operation)
        self._open = self._series.open
        self._direction = self._series.audio
        # Bytes per second of raw audio, worked out once (0: compressed, not counted).
        width = audio.encoding.bytes_per_sample
        self._bytes_per_second = width * audio.sample_rate_hz if width else 0
        self._started: float | None = None  # the first audio in, or the first text
        self._first_answer_seen = False
        self._completed = False

    def __enter__(self) -> SessionMetrics:
        self._open.inc()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._open.dec()
        if error is not None:
            outcome = outcome_of(error)
        else:
            # A session left before its final event: its caller stopped reading.
            outcome = "ok" if self._completed else "cancelled"
        self._series.ended(outcome).inc()

    def audio_in(self, byte_count: int) -> None:
        """Audio handed to the provider to transcribe."""
        if self._started is None:
            self._started = time.perf_counter()
        self._count(byte_count)

    def transcript(self) -> None:
        """A transcript (interim or final) from the provider."""
        if not self._first_answer_seen and self._started is not None:
            self._first_answer_seen = True
            self._series.first_transcript.observe(time.perf_counter() - self._started)

    def text_sent(self) -> None:
        """Text handed to the provider to speak."""
        if self._started is None:
            self._started = time.perf_counter()

    def audio_out(self, byte_count: int) -> None:
        """Synthesized audio from the provider."""
        if not self._first_answer_seen and self._started is not None:
            self._first_answer_seen = True
            self._series.first_audio.observe(time.perf_counter() - self._started)
        self._count(byte_count)

    def completed(self) -> None:
        """The provider's final event arrived: the session ends well."""
        self._completed = True

    def _count(self, byte_count: int) -> None:
        if self._bytes_per_second > 0 and byte_count:
            self._direction.inc(byte_count / self._bytes_per_second)
