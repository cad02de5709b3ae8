"""Traces: the caller's trace continued per RPC, a span per provider call, nothing secret."""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc
import httpx
import pytest
from integration_api_proto.integration.v1 import ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from integration_api.config import ConfigError, TracingSettings, load_settings
from integration_api.observability import tracing
from tests.llm.support import user_says
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService

CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE_ID}-{CALLER_SPAN_ID}-01"
PROMPT = "What is the secret word?"
CHAT = "integration.v1.LlmService/Chat"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.install(SimpleSpanProcessor(exporter))
    yield exporter
    tracing.stop()


def _named(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    (span,) = [span for span in exporter.get_finished_spans() if span.name == name]
    return span


async def _chat(service: RunningService, upstream: Upstream) -> grpc.StatusCode | None:
    llm = LlmServiceStub(service.channel)
    request = ChatRequest(credential_id=upstream.credential_id, messages=user_says(PROMPT))
    call = llm.chat(request, metadata=(*service.auth(), ("traceparent", TRACEPARENT)), timeout=10)
    try:
        async for _chunk in call:
            pass
    except grpc.aio.AioRpcError as error:
        return error.code()
    return await call.code()


async def test_a_chat_continues_the_callers_trace_with_a_span_per_provider_call(
    spans: InMemorySpanExporter, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    upstream.replay.play("text.sse")
    assert await _chat(service, upstream) == grpc.StatusCode.OK

    server = _named(spans, CHAT)
    client = _named(spans, "POST openai")
    assert server.kind == SpanKind.SERVER
    assert format(server.context.trace_id, "032x") == CALLER_TRACE_ID
    assert server.parent is not None and format(server.parent.span_id, "016x") == CALLER_SPAN_ID
    assert server.attributes is not None and server.attributes["rpc.grpc.status_code"] == 0
    assert client.kind == SpanKind.CLIENT
    assert client.parent is not None and client.parent.span_id == server.context.span_id
    attributes = dict(client.attributes or {})
    ttft = attributes.pop("integration_api.time_to_first_token_ms")
    assert isinstance(ttft, float) and 0 < ttft < 10_000
    assert attributes == {
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": httpx.URL(upstream.replay.base_url).port,
        "http.response.status_code": 200,
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 9,
    }
    assert client.start_time is not None and server.start_time is not None
    assert server.start_time <= client.start_time
    assert client.end_time is not None and server.end_time is not None
    assert client.end_time <= server.end_time


async def test_no_span_carries_the_key_the_prompt_or_a_url_path(
    spans: InMemorySpanExporter, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    upstream.replay.play("text.sse")
    await _chat(service, upstream)
    exported = json.dumps([json.loads(span.to_json()) for span in spans.get_finished_spans()])
    for never in (upstream.key, PROMPT, "/chat/completions", "Bearer"):
        assert never not in exported


async def test_a_refused_key_marks_the_provider_span_and_the_rpc_failed(
    spans: InMemorySpanExporter, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["mistral"]
    upstream.replay.play("unauthorized.http")
    assert await _chat(service, upstream) == grpc.StatusCode.FAILED_PRECONDITION

    client = _named(spans, "POST mistral")
    assert client.status.status_code == StatusCode.ERROR
    assert client.attributes is not None
    assert client.attributes["http.response.status_code"] == 401
    assert client.attributes["error.type"] == "CREDENTIAL_REJECTED"
    server = _named(spans, CHAT)
    assert server.status.status_code == StatusCode.ERROR
    assert server.attributes is not None
    assert server.attributes["rpc.grpc.status_code"] == grpc.StatusCode.FAILED_PRECONDITION.value[0]


async def test_without_an_endpoint_nothing_is_traced(
    service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    assert not tracing.start_exporting(load_settings({}).tracing)
    assert not tracing.enabled()
    upstream = all_upstreams["openai"]
    upstream.replay.play("text.sse")
    assert await _chat(service, upstream) == grpc.StatusCode.OK
    assert tracing.start_rpc(CHAT, (), "request-1") is None


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, TracingSettings()),
        (
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
                "OTEL_SERVICE_NAME": "integration-api-eu",
                "OTEL_TRACES_SAMPLER_ARG": "0.25",
            },
            TracingSettings("http://collector:4317", "integration-api-eu", 0.25),
        ),
    ],
)
def test_tracing_settings_come_from_the_standard_variables(
    variables: dict[str, str], expected: TracingSettings
) -> None:
    assert load_settings(variables).tracing == expected


@pytest.mark.parametrize(
    "variables",
    [
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"},
        {"OTEL_TRACES_SAMPLER_ARG": "1.5"},
        {"OTEL_TRACES_SAMPLER_ARG": "half"},
    ],
)
def test_unusable_tracing_settings_are_refused(variables: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(variables)
