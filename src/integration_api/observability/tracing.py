"""OpenTelemetry traces: a server span per RPC, a client span per provider call.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set; then spans go to that collector over OTLP/gRPC.
While off, every hook below returns at its first line, so the RPC and stream paths pay one
function call and nothing else (the SDK is not even imported).

A server span continues the caller's W3C trace (`traceparent`/`tracestate` in the call's
metadata). A provider call's span is the child of the RPC's span; it carries the provider id,
the model, the HTTP status, and, for a chat or embedding call, the time to first token and the
token counts. Spans carry no secret, no URL (only the host), no query and no prompt or answer
text, and error spans carry the typed error's reason, never an exception's message.

A streamed provider answer is read while the RPC sends its parts, and its time to first token
and token counts are known only when the call ends: such a span is kept open past the close of
the HTTP response (with the close as its end time) until the call's figures are attached, or
the RPC ends.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yarl import URL

from integration_api.config import TracingSettings
from integration_api.errors import ServiceError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.trace import Span, Tracer

TRACER_NAME = "integration_api"
TRACE_HEADERS = ("traceparent", "tracestate")


@dataclass
class _State:
    provider: TracerProvider | None = None
    tracer: Tracer | None = None


_state = _State()


@dataclass
class _ProviderSpan:
    span: Span
    ended_at_ns: int | None = None


@dataclass
class _RpcTrace:
    """The spans of one RPC: its own, and the provider spans still waiting for figures."""

    span: Span
    waiting: list[_ProviderSpan] = field(default_factory=list)


_current_rpc: contextvars.ContextVar[_RpcTrace | None] = contextvars.ContextVar(
    "integration_api_rpc_trace", default=None
)


def enabled() -> bool:
    return _state.tracer is not None


def install(processor: SpanProcessor, settings: TracingSettings | None = None) -> None:
    """Trace from now on through `processor` (the OTLP batch exporter, or a test's own)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    settings = settings or TracingSettings()
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    provider.add_span_processor(processor)
    _state.provider = provider
    _state.tracer = provider.get_tracer(TRACER_NAME)


def start_exporting(settings: TracingSettings) -> bool:
    """Sends spans to the configured collector; False (and nothing done) when none is."""
    if not settings.enabled:
        return False
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(
        endpoint=settings.endpoint, insecure=settings.endpoint.startswith("http://")
    )
    install(BatchSpanProcessor(exporter), settings)
    return True


def stop() -> None:
    """Sends what is buffered and stops tracing."""
    provider = _state.provider
    _state.provider = None
    _state.tracer = None
    if provider is not None:
        provider.shutdown()


def _metadata_carrier(metadata: Iterable[tuple[str, object]] | None) -> dict[str, str]:
    carrier: dict[str, str] = {}
    for key, value in metadata or ():
        if key in TRACE_HEADERS and isinstance(value, str):
            carrier[key] = value
    return carrier


def start_rpc(
    method: str, metadata: Iterable[tuple[str, object]] | None, request_id: str
) -> contextvars.Token[_RpcTrace | None] | None:
    """Opens the RPC's server span as the current one; pass the token to `end_rpc`."""
    tracer = _state.tracer
    if tracer is None:
        return None
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    service, _, name = method.lstrip("/").rpartition("/")
    span = tracer.start_span(
        f"{service}/{name}",
        context=extract(_metadata_carrier(metadata)),
        kind=SpanKind.SERVER,
        attributes={
            "rpc.system": "grpc",
            "rpc.service": service,
            "rpc.method": name,
            "integration_api.request_id": request_id,
        },
    )
    return _current_rpc.set(_RpcTrace(span))


def end_rpc(token: contextvars.Token[_RpcTrace | None] | None, code: int, code_name: str) -> None:
    """Ends the RPC's span (and provider spans still waiting) with the RPC's status code."""
    if token is None:
        return
    from opentelemetry.trace import Status, StatusCode

    rpc = _current_rpc.get()
    _current_rpc.reset(token)
    if rpc is None:
        return
    for waiting in rpc.waiting:
        waiting.span.end(end_time=waiting.ended_at_ns)
    rpc.span.set_attribute("rpc.grpc.status_code", code)
    if code != 0:
        rpc.span.set_status(Status(StatusCode.ERROR, code_name))
    rpc.span.end()


class ProviderCallSpan:
    """The client span of one HTTP request to a provider, as a context manager.

    A typed error leaving the block marks the span failed with the error's reason (never its
    message) and ends it; a call that ends well waits, inside an RPC, for `call_figures`.
    """

    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def __enter__(self) -> ProviderCallSpan:
        return self

    def answered(self, status_code: int) -> None:
        self._span.set_attribute("http.response.status_code", status_code)

    def __exit__(self, _type: object, error: BaseException | None, _tb: object) -> None:
        # GeneratorExit: the reader closed a stream it had read what it needed from.
        if error is None or isinstance(error, GeneratorExit):
            rpc = _current_rpc.get()
            if rpc is None:
                self._span.end()
            else:
                rpc.waiting.append(_ProviderSpan(self._span, time.time_ns()))
            return
        from opentelemetry.trace import Status, StatusCode

        reason = (error.reason or error.code.name) if isinstance(error, ServiceError) else ""
        # Not a typed error: cancellation (the caller left) or a fault, named by its type only.
        reason = reason or type(error).__name__
        self._span.set_attribute("error.type", reason)
        self._span.set_status(Status(StatusCode.ERROR, reason))
        self._span.end()


class _Untraced:
    """What `provider_call` returns while tracing is off: every method does nothing."""

    __slots__ = ()

    def __enter__(self) -> _Untraced:
        return self

    def answered(self, status_code: int) -> None:
        pass

    def __exit__(self, _type: object, _error: BaseException | None, _tb: object) -> None:
        pass


UNTRACED = _Untraced()


def provider_call(
    provider: str, method: str, url: URL, body: object
) -> ProviderCallSpan | _Untraced:
    """The span of one request to a provider, child of the current RPC's span.

    Only the host and port of `url` are recorded: a path or query may carry a key or an id.
    """
    tracer = _state.tracer
    if tracer is None:
        return UNTRACED
    from opentelemetry.trace import SpanKind, set_span_in_context

    rpc = _current_rpc.get()
    attributes: dict[str, Any] = {
        "gen_ai.provider.name": provider,
        "http.request.method": method,
        "server.address": url.host,
    }
    if url.explicit_port is not None:
        attributes["server.port"] = url.explicit_port
    model = body.get("model") if isinstance(body, Mapping) else None
    if isinstance(model, str):
        attributes["gen_ai.request.model"] = model
    span = tracer.start_span(
        f"{method} {provider}",
        context=set_span_in_context(rpc.span) if rpc is not None else None,
        kind=SpanKind.CLIENT,
        attributes=attributes,
    )
    return ProviderCallSpan(span)


def call_figures(
    model: str,
    time_to_first_token: float | None,
    input_tokens: int | None,
    output_tokens: int | None,
) -> None:
    """Attaches a finished chat or embedding call's figures to its provider span and ends it."""
    rpc = _current_rpc.get()
    if rpc is None or not rpc.waiting:
        return
    waiting = rpc.waiting.pop()
    span = waiting.span
    if model:
        # The model the call resolved (a credential's default, or one named in the URL).
        span.set_attribute("gen_ai.request.model", model)
    if time_to_first_token is not None:
        span.set_attribute(
            "integration_api.time_to_first_token_ms", round(time_to_first_token * 1000, 3)
        )
    if input_tokens is not None:
        span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
    if output_tokens is not None:
        span.set_attribute("gen_ai.usage.output_tokens", output_tokens)
    span.end(end_time=waiting.ended_at_ns)
