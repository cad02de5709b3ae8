"""Reasoning through the OpenAI family: streamed as it arrives, asked for by effort, never by
a budget the family cannot take; reasoning sent back in history only on assistant messages."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ChatRequest,
    Message,
    ModelParameters,
    ReasoningBlock,
    ReasoningEffort,
    Role,
)
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.credentials.helpers import field_violations
from tests.llm.support import chat, user_says
from tests.llm.upstreams import OPENAI_FAMILY, Upstream
from tests.support.service import RunningService


async def test_reasoning_streams_as_reasoning_deltas_before_the_answer(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai-compatible"]
    upstream.replay.play("reasoning.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.shape == ["reasoning_delta", "reasoning_delta", "text_delta", "usage", "finish"]
    assert answer.reasoning == "The user greets me. A short greeting back fits."
    assert answer.text == "Hello!"


@pytest.mark.parametrize("provider", OPENAI_FAMILY)
async def test_reasoning_effort_is_sent_and_a_thinking_budget_is_refused(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("text.sse")
    with_effort = ChatRequest(
        credential_id=upstream.credential_id,
        messages=user_says(),
        parameters=ModelParameters(reasoning_effort=ReasoningEffort.LOW),
    )
    answer = await chat(llm, service, with_effort)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert upstream.replay.requests[-1].json()["reasoning_effort"] == "low"

    sent = len(upstream.replay.requests)
    with_budget = ChatRequest(
        credential_id=upstream.credential_id,
        messages=user_says(),
        parameters=ModelParameters(reasoning_budget_tokens=1024),
    )
    refused = await chat(llm, service, with_budget)
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.error is not None
    assert "parameters.reasoning_budget_tokens" in field_violations(refused.error)
    assert len(upstream.replay.requests) == sent


async def test_reasoning_in_history_is_left_out_for_the_family_and_refused_off_assistant(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    upstream.replay.play("text.sse")
    block = ReasoningBlock(text="I thought", signature="sig")
    history = [
        *user_says(),
        Message(role=Role.ASSISTANT, text="Hello", reasoning=[block], cache_breakpoint=True),
        *user_says("Again"),
    ]
    answer = await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=history)
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    sent = upstream.replay.requests[-1].json()["messages"]
    assert sent[1] == {"role": "assistant", "content": "Hello"}

    misplaced = [Message(role=Role.USER, text="Hi", reasoning=[block])]
    refused = await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=misplaced)
    )
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.error is not None
    assert "messages[0].reasoning" in field_violations(refused.error)
