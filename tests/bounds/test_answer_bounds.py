"""A hostile upstream cannot make the service hold unbounded memory or time.

Each test feeds one call far more than its bound allows (64 MB where the bound is 64 kB to
4 MB, millions of fragments, an endless stream) and checks that the call ends with a status
naming the bound, quoting nothing the upstream sent, and that the process did not grow.
"""

from __future__ import annotations

import time

import grpc
import pytest
from integration_api_proto.integration.v1 import ChatRequest, EmbedRequest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub, LlmServiceStub

from integration_api.upstream import limits
from tests.bounds.conftest import LIMITS, Upstreams, organization
from tests.fakes import hostile
from tests.llm.support import Answer, chat, user_says
from tests.support.memory import peak_rss_growth
from tests.support.service import RunningService

MB = 1024 * 1024
# Far below what the upstream sends (64 MB): buffering it would grow the process past this.
MAX_GROWTH_BYTES = 50 * MB


async def call_chat(llm: LlmServiceStub, service: RunningService, upstreams: Upstreams) -> Answer:
    tenant = organization()
    credential_id = await upstreams.credential("hostile", tenant)
    request = ChatRequest(credential_id=credential_id, messages=user_says())
    # No deadline: the service's own bounds must end the call.
    return await chat(llm, service, request, deadline_seconds=None, organization_id=tenant)


async def call_embed(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> Answer:
    tenant = organization()
    credential_id = await upstreams.credential("hostile", tenant)
    request = EmbedRequest(credential_id=credential_id, model="m", inputs=["hello"])
    try:
        await embeddings.embed(request, metadata=service.auth(organization_id=tenant))
    except grpc.aio.AioRpcError as error:
        return Answer(error=error)
    return Answer()


def assert_ended_by(answer: Answer, code: grpc.StatusCode, reason: str, limit: object) -> None:
    assert answer.code() == code, answer.error
    assert answer.reason() == reason
    assert answer.error is not None
    details = answer.error.details() or ""
    assert str(limit) in details
    # Nothing the upstream sent is quoted back.
    assert not any(filler * 8 in details for filler in ("x", "y", "z", "a"))


@pytest.mark.parametrize(
    ("behaviour", "reason", "limit"),
    [
        (hostile.long_line(64 * MB), limits.SSE_LINE_TOO_LARGE, LIMITS.max_sse_line_bytes),
        (hostile.endless_event(64 * MB), limits.SSE_EVENT_TOO_LARGE, LIMITS.max_sse_event_bytes),
        (
            hostile.argument_fragments(2_000_000),
            limits.TOOL_ARGUMENTS_TOO_LARGE,
            LIMITS.max_tool_arguments_bytes,
        ),
        (hostile.many_tool_calls(1_000_000), limits.TOO_MANY_TOOL_CALLS, LIMITS.max_tool_calls),
    ],
    ids=["64 MB line", "64 MB event", "2M argument fragments", "1M tool calls"],
)
async def test_a_stream_past_a_size_bound_ends_the_chat_naming_it_without_growing(
    behaviour: hostile.Behaviour,
    reason: str,
    limit: int,
    llm: LlmServiceStub,
    service: RunningService,
    upstreams: Upstreams,
) -> None:
    upstreams.hostile.answer_with(behaviour)
    async with peak_rss_growth() as growth:
        answer = await call_chat(llm, service, upstreams)
    assert_ended_by(answer, grpc.StatusCode.UNAVAILABLE, reason, limit)
    assert growth() < MAX_GROWTH_BYTES


async def test_a_body_past_its_bound_ends_the_embed_call_naming_it_without_growing(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.large_body(64 * MB))
    async with peak_rss_growth() as growth:
        answer = await call_embed(embeddings, service, upstreams)
    assert_ended_by(
        answer, grpc.StatusCode.UNAVAILABLE, limits.RESPONSE_TOO_LARGE, LIMITS.max_body_bytes
    )
    assert growth() < MAX_GROWTH_BYTES


async def test_a_huge_error_body_is_read_only_as_far_as_its_bound(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.large_body(64 * MB, status=500))
    async with peak_rss_growth() as growth:
        answer = await call_embed(embeddings, service, upstreams)
    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.metadata()["provider_http_status"] == "500"
    assert growth() < MAX_GROWTH_BYTES


async def test_keep_alive_comments_do_not_hold_a_chat_without_deadline_open(
    llm: LlmServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.keep_alive_forever(0.05))
    started = time.monotonic()
    answer = await call_chat(llm, service, upstreams)
    assert_ended_by(
        answer,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        limits.EVENT_GAP_TOO_LONG,
        f"{LIMITS.max_event_gap_seconds:g} s",
    )
    assert time.monotonic() - started < LIMITS.max_event_gap_seconds + 1.0


async def test_an_endless_stream_is_ended_at_the_answer_bound_after_its_text(
    llm: LlmServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.text_forever(0.05))
    started = time.monotonic()
    answer = await call_chat(llm, service, upstreams)
    assert answer.texts, "text arrived before the bound ended the answer"
    assert_ended_by(
        answer,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        limits.ANSWER_TOO_SLOW,
        f"{LIMITS.max_answer_seconds:g} s",
    )
    assert time.monotonic() - started < LIMITS.max_answer_seconds + 1.0


async def test_a_body_that_trickles_in_forever_is_ended_at_the_answer_bound(
    embeddings: EmbeddingServiceStub, service: RunningService, upstreams: Upstreams
) -> None:
    upstreams.hostile.answer_with(hostile.trickled_body(0.05))
    started = time.monotonic()
    answer = await call_embed(embeddings, service, upstreams)
    assert_ended_by(
        answer,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        limits.ANSWER_TOO_SLOW,
        f"{LIMITS.max_answer_seconds:g} s",
    )
    assert time.monotonic() - started < LIMITS.max_answer_seconds + 1.0
