"""Prometheus metrics of the usage ledger (no tenant labels: they would be unbounded)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS_QUEUED = Gauge(
    "integration_api_usage_records_queued",
    "Usage records waiting in this process's buffer (and its batch being written).",
    multiprocess_mode="livesum",
)
RECORDS_WRITTEN = Counter(
    "integration_api_usage_records_written",
    "Usage records made durable in PostgreSQL.",
)
RECORDS_DROPPED = Counter(
    "integration_api_usage_records_dropped",
    "Usage records lost: the buffer was full (buffer_full) or the drain ran out of time "
    "(shutdown).",
    ["reason"],
)
FLUSH_FAILURES = Counter(
    "integration_api_usage_flush_failures",
    "Batch writes that failed (the batch is kept and written again).",
)
FLUSH_DURATION = Histogram(
    "integration_api_usage_flush_duration_seconds",
    "Time to write one batch of usage records (one statement).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
