"""The usage ledger's columns, named once: what a record holds and what its hours sum.

Migration 0007 defines the tables; the writer (`usage_records`), the queries (`usage_queries`),
the export (`ops/usage_query`) and the tools that lay down records all compose their statements
and lines from these names, so a column added to the tables is added here and nowhere else.
"""

from __future__ import annotations

# A record's columns (all but recorded_at, which the database sets) with their array types, in
# the order of `UsageRow` and of the writer's parameters.
RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("occurred_at", "timestamptz"),
    ("id", "uuid"),
    ("organization_id", "text"),
    ("project_id", "text"),
    ("credential_id", "text"),
    ("route_id", "text"),
    ("route_target", "smallint"),
    ("provider", "text"),
    ("model", "text"),
    ("voice", "text"),
    ("operation", "text"),
    ("outcome", "text"),
    ("input_tokens", "bigint"),
    ("cached_input_tokens", "bigint"),
    ("cache_write_input_tokens", "bigint"),
    ("output_tokens", "bigint"),
    ("reasoning_tokens", "bigint"),
    ("audio_seconds_in", "float8"),
    ("audio_seconds_out", "float8"),
    ("characters", "bigint"),
    ("search_units", "bigint"),
    ("duration_seconds", "float8"),
    ("provider_request_id", "text"),
    ("cost_micros", "numeric"),
    ("price_id", "bigint"),
    ("unpriced", "boolean"),
)
RECORD_NAMES = tuple(name for name, _ in RECORD_COLUMNS)

# What an export line carries as the record has it, after its id and time and before its cost
# (which is written exactly) and its price's version (from the price row).
EXPORTED_AS_IS = tuple(
    name
    for name in RECORD_NAMES
    if name not in ("occurred_at", "id", "cost_micros", "price_id", "unpriced")
)

# usage_hourly's primary key, in the order every writer locks its rows.
HOURLY_KEY = (
    "hour",
    "organization_id",
    "project_id",
    "credential_id",
    "route_id",
    "provider",
    "model",
    "operation",
)

# Counts of calls, then sums of the record's own columns (an unreported count adds nothing).
HOURLY_COUNTS = ("calls", "failed_calls", "unpriced_calls")
SUMMED_COLUMNS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "audio_seconds_in",
    "audio_seconds_out",
    "characters",
    "search_units",
    "duration_seconds",
    "cost_micros",
)
HOURLY_SUMS = (*HOURLY_COUNTS, *SUMMED_COLUMNS)
# The sums kept as integers (the others are seconds and micro-dollars).
INTEGER_SUMS = frozenset(
    (
        *HOURLY_COUNTS,
        "input_tokens",
        "cached_input_tokens",
        "cache_write_input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "characters",
        "search_units",
    )
)

# What a set of raw records adds to each hourly sum, as an aggregate over them.
RECORD_SUM: dict[str, str] = {
    "calls": "count(*)",
    "failed_calls": "count(*) FILTER (WHERE outcome <> 'ok')",
    "unpriced_calls": "count(*) FILTER (WHERE unpriced)",
    **{name: f"coalesce(sum({name}), 0)" for name in SUMMED_COLUMNS},
}
