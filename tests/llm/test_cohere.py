"""Cohere v2 chat beyond the conformance suite: the request it is sent, its tool plan, its
finishes and its end markers."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ChatRequest,
    FinishReason,
    Message,
    ModelParameters,
    ReasoningBlock,
    ReasoningEffort,
    Role,
    ToolCall,
)
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.credentials.helpers import field_violations
from tests.llm.snapshots import assert_matches_snapshot, request_snapshot
from tests.llm.support import chat, user_says
from tests.llm.test_requests import every_parameter
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService

GREETING = "Hello! How can I help you today?"


async def test_the_request_sent_upstream_matches_its_snapshot(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["cohere"]
    upstream.replay.play("text.sse")
    request = every_parameter(upstream.credential_id)
    # The plan the model streamed before its call goes back as the assistant's `tool_plan`.
    request.messages[2].reasoning = [ReasoningBlock(text="I will look up the weather.")]
    answer = await chat(llm, service, request)
    assert answer.code() == grpc.StatusCode.OK, answer.error

    (sent,) = upstream.replay.requests
    body = sent.json()
    assert body["tool_choice"] == "REQUIRED"
    assert body["messages"][2]["tool_plan"] == "I will look up the weather."
    assert body["messages"][3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"celsius":21}',
    }
    snapshot = request_snapshot(sent, upstream.key, upstream.replay.layout.base_path)
    assert_matches_snapshot("cohere", "chat_every_parameter", snapshot)


async def test_the_tool_plan_arrives_as_reasoning_before_the_call(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["cohere"]
    upstream.replay.play("tool_plan.sse")
    request = ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    answer = await chat(llm, service, request)

    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.reasoning == "I will look up the weather in Paris."
    assert answer.text == ""
    assert answer.called() == [("get_weather", {"city": "Paris"})]
    assert answer.kinds == ["reasoning_delta"] * 3 + ["tool_call", "usage", "finish"]


@pytest.mark.parametrize(
    ("scenario", "raw_reason"), [("error_mid_stream.sse", "ERROR"), ("timeout.sse", "TIMEOUT")]
)
async def test_a_finish_that_says_the_answer_broke_off_ends_the_call_non_ok(
    scenario: str,
    raw_reason: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["cohere"]
    upstream.replay.play(scenario)
    answer = await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.reason() == "PROVIDER_STREAM_ERROR"
    assert answer.metadata()["finish_reason"] == raw_reason
    assert answer.text == "Hello!"
    assert not answer.finishes


@pytest.mark.parametrize(
    ("scenario", "raw_reason"),
    [("stop_sequence.sse", "STOP_SEQUENCE"), ("done_marker.sse", "COMPLETE")],
)
async def test_a_stop_sequence_and_a_trailing_done_marker_end_normally(
    scenario: str,
    raw_reason: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["cohere"]
    upstream.replay.play(scenario)
    answer = await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.text == GREETING
    (finish,) = answer.finishes
    assert (finish.reason, finish.raw_reason) == (FinishReason.STOP, raw_reason)


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        (ModelParameters(reasoning_effort=ReasoningEffort.HIGH), "parameters.reasoning_effort"),
        (ModelParameters(parallel_tool_calls=False), "parameters.parallel_tool_calls"),
    ],
)
async def test_a_parameter_cohere_cannot_take_is_refused_not_dropped(
    parameters: ModelParameters,
    field: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["cohere"]
    request = ChatRequest(
        credential_id=upstream.credential_id, messages=user_says(), parameters=parameters
    )
    answer = await chat(llm, service, request)
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None and field in field_violations(answer.error)
    assert upstream.replay.requests == []


async def test_a_tool_message_without_the_id_of_its_call_is_refused(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["cohere"]
    messages = [
        *user_says(),
        Message(role=Role.ASSISTANT, tool_calls=[ToolCall(id="c1", name="f", arguments_json="{}")]),
        Message(role=Role.TOOL, text="42"),
    ]
    answer = await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=messages)
    )
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None
    assert "messages[2].tool_call_id" in field_violations(answer.error)
