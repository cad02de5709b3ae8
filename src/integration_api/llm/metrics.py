"""Prometheus metrics of provider calls (chat, embed, rerank), per provider and model.

The model label takes the name the caller asked for, so it is bounded per tenant and provider
(`bounded_labels`): a tenant's names past its quota, or past the provider's ceiling, count as
"other", and no tenant can push another's models there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import Counter, Histogram

from integration_api.llm.contract import Usage
from integration_api.llm.timing import CallClock
from integration_api.observability import tracing
from integration_api.observability.bounded_labels import BoundedLabel
from integration_api.principal import Tenant

# Per provider: each tenant names at most 16 models of its own, and at most 128 in all.
MODEL_LABELS = BoundedLabel(per_tenant=16, max_values=128)
NOT_REPORTED = Usage()

_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
_OVERHEAD_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.01,
    0.015,
    0.025,
    0.05,
    0.1,
    0.25,
)

REQUESTS = Counter(
    "integration_api_provider_requests_total",
    "Provider calls by operation (chat, embed) and outcome (ok, or the status code).",
    ["provider", "model", "operation", "outcome"],
)
TIME_TO_FIRST_TOKEN = Histogram(
    "integration_api_chat_time_to_first_token_seconds",
    "From receiving a chat request to sending its first part.",
    ["provider", "model"],
    buckets=_LATENCY_BUCKETS,
)
DURATION = Histogram(
    "integration_api_provider_call_duration_seconds",
    "From receiving a request to its last part or answer.",
    ["provider", "model", "operation"],
    buckets=_LATENCY_BUCKETS,
)
GATEWAY_OVERHEAD = Histogram(
    "integration_api_gateway_overhead_seconds",
    "Time a call spent in the service itself, not waiting on the provider.",
    ["provider", "model", "operation"],
    buckets=_OVERHEAD_BUCKETS,
)
TOKENS = Counter(
    "integration_api_provider_tokens_total",
    "Tokens the provider reported, by direction (input, output).",
    ["provider", "model", "operation", "direction"],
)


@dataclass(frozen=True)
class CallRecord:
    """Everything the metrics need about one finished call."""

    provider: str
    model: str
    operation: str
    outcome: str
    duration: float
    overhead: float
    tenant: Tenant
    time_to_first_token: float | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class _Series:
    """The labelled series of one provider, model and operation (looking labels up is costly)."""

    duration: Histogram
    overhead: Histogram
    time_to_first_token: Histogram
    input_tokens: Counter
    output_tokens: Counter


_series: dict[tuple[str, str, str], _Series] = {}


def _series_for(provider: str, model: str, operation: str) -> _Series:
    key = (provider, model, operation)
    series = _series.get(key)
    if series is None:
        series = _Series(
            duration=DURATION.labels(provider, model, operation),
            overhead=GATEWAY_OVERHEAD.labels(provider, model, operation),
            time_to_first_token=TIME_TO_FIRST_TOKEN.labels(provider, model),
            input_tokens=TOKENS.labels(provider, model, operation, "input"),
            output_tokens=TOKENS.labels(provider, model, operation, "output"),
        )
        _series[key] = series
    return series


def record_call(call: CallRecord) -> None:
    counted = call.usage or NOT_REPORTED
    tracing.call_figures(
        call.model, call.time_to_first_token, counted.input_tokens, counted.output_tokens
    )
    model = MODEL_LABELS.value(call.tenant, call.provider, call.model)
    REQUESTS.labels(call.provider, model, call.operation, call.outcome).inc()
    series = _series_for(call.provider, model, call.operation)
    series.duration.observe(call.duration)
    series.overhead.observe(call.overhead)
    if call.time_to_first_token is not None:
        series.time_to_first_token.observe(call.time_to_first_token)
    usage = call.usage
    if usage is not None:
        if usage.input_tokens is not None:
            series.input_tokens.inc(usage.input_tokens)
        if usage.output_tokens is not None:
            series.output_tokens.inc(usage.output_tokens)


@dataclass
class UnaryCall:
    """What one call that answers once (embed, rerank) has learnt so far, for its metrics."""

    operation: str
    model: str
    tenant: Tenant
    provider: str = ""
    outcome: str = "ok"
    usage: Usage = field(default_factory=Usage)
    clock: CallClock = field(default_factory=CallClock)

    def save(self) -> None:
        if not self.provider:
            return  # refused before a provider was involved
        total = self.clock.elapsed()
        overhead = self.clock.overhead(total)
        record_call(
            CallRecord(
                self.provider,
                self.model,
                self.operation,
                self.outcome,
                total,
                overhead,
                self.tenant,
                None,
                self.usage,
            )
        )
