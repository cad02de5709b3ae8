"""A caller's trace context is honoured only once the caller is authenticated.

Before, any caller's `traceparent` with the sampled flag set made the service record and export
spans, even with the sampler at 0: a health probe or a refused token chose what went to the
collector. Now an unauthenticated call starts its own trace and the sampler decides.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from integration_api_proto.integration.v1 import ListCredentialsRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integration_api.config import TracingSettings
from integration_api.observability import tracing
from tests.support import health_client
from tests.support.service import RunningService

CALLER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SAMPLED = (("traceparent", f"00-{CALLER_TRACE_ID}-00f067aa0ba902b7-01"),)
LIST = "integration.v1.CredentialService/ListCredentials"
CHECK = "grpc.health.v1.Health/Check"


def _exporter(ratio: float) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.install(SimpleSpanProcessor(exporter), TracingSettings(sample_ratio=ratio))
    yield exporter
    tracing.stop()


@pytest.fixture
def never_sampled() -> Iterator[InMemorySpanExporter]:
    yield from _exporter(0.0)


@pytest.fixture
def always_sampled() -> Iterator[InMemorySpanExporter]:
    yield from _exporter(1.0)


async def _health_check(service: RunningService) -> None:
    check = service.channel.unary_unary(
        health_client.CHECK,
        request_serializer=health_client.Request.SerializeToString,
        response_deserializer=health_client.Response.FromString,
    )
    await check(health_client.Request(), metadata=SAMPLED, timeout=5)


async def _list_with(service: RunningService, metadata: tuple[tuple[str, str], ...]) -> None:
    stub = CredentialServiceStub(service.channel)
    try:
        await stub.list_credentials(ListCredentialsRequest(), metadata=metadata, timeout=5)
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_an_unauthenticated_callers_sampled_flag_exports_nothing_with_the_sampler_at_0(
    never_sampled: InMemorySpanExporter, service: RunningService
) -> None:
    await _health_check(service)
    await _list_with(service, (("authorization", "Bearer not-a-token"), *SAMPLED))
    await _list_with(service, SAMPLED)
    assert never_sampled.get_finished_spans() == ()


async def test_an_unauthenticated_call_starts_its_own_trace(
    always_sampled: InMemorySpanExporter, service: RunningService
) -> None:
    await _health_check(service)
    await _list_with(service, (("authorization", "Bearer not-a-token"), *SAMPLED))
    spans = always_sampled.get_finished_spans()
    assert sorted(span.name for span in spans) == [CHECK, LIST]
    for span in spans:
        assert span.parent is None
        assert format(span.context.trace_id, "032x") != CALLER_TRACE_ID


async def test_an_authenticated_caller_continues_its_trace(
    never_sampled: InMemorySpanExporter, service: RunningService
) -> None:
    await _list_with(service, (*service.auth(), *SAMPLED))
    (span,) = never_sampled.get_finished_spans()
    assert span.name == LIST
    assert format(span.context.trace_id, "032x") == CALLER_TRACE_ID
