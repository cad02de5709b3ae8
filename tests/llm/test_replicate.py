"""Replicate chat beyond the conformance suite: the prediction it creates, how a prediction
that cannot stream or is cancelled ends, and that a caller who leaves cancels the prediction."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ChatRequest,
    Message,
    ModelParameters,
    ReasoningEffort,
    Role,
    Tool,
    ToolCall,
)
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.credentials.helpers import error_info, field_violations
from tests.fakes.replay import Reply
from tests.fakes.replay_replicate import VERSION
from tests.llm.snapshots import assert_matches_snapshot, request_snapshot
from tests.llm.support import Answer, chat, user_says
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService


def request_for(upstream: Upstream, **fields: object) -> ChatRequest:
    request = ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    for name, value in fields.items():
        setattr(request, name, value)
    return request


async def test_a_conversation_becomes_the_prediction_input_of_its_snapshot(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["replicate"]
    upstream.replay.play("text.sse")
    messages = [
        Message(role=Role.SYSTEM, text="You are terse."),
        Message(role=Role.USER, text="Hi"),
        Message(role=Role.ASSISTANT, text="Hello!"),
        Message(role=Role.USER, text="Say it again."),
    ]
    parameters = ModelParameters(temperature=0.2, top_p=0.9, max_tokens=64, stop=["END", "STOP"])
    answer = await chat(
        llm, service, request_for(upstream, messages=messages, parameters=parameters)
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error

    (sent,) = upstream.replay.requests
    assert (
        sent.json()["input"]["prompt"]
        == "User: Hi\n\nAssistant: Hello!\n\nUser: Say it again.\n\nAssistant:"
    )
    snapshot = request_snapshot(sent, upstream.key, upstream.replay.layout.base_path)
    assert_matches_snapshot("replicate", "chat_conversation", snapshot)
    stream, state = upstream.replay.prediction_requests
    assert (stream.method, stream.path.endswith("/stream")) == ("GET", True)
    assert stream.headers["accept"] == "text/event-stream"
    assert (state.method, upstream.key in state.headers["authorization"]) == ("GET", True)


@pytest.mark.parametrize("model", [VERSION, f"meta/meta-llama-3-8b-instruct:{VERSION}"])
async def test_a_version_is_sent_to_the_predictions_endpoint(
    model: str, llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["replicate"]
    upstream.replay.play("text.sse")
    answer = await chat(llm, service, request_for(upstream, model=model))
    assert answer.code() == grpc.StatusCode.OK, answer.error
    (sent,) = upstream.replay.requests
    assert sent.path == "/v1/predictions"
    assert sent.json()["version"] == VERSION
    assert sent.json()["stream"] is True


async def test_lines_of_one_output_event_arrive_joined(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["replicate"]
    upstream.replay.play("multiline.sse")
    answer = await chat(llm, service, request_for(upstream))
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.text == "Hello!\nHow can I help"
    usage = answer.usages[0]
    assert (usage.input_tokens, usage.output_tokens) == (12, 9)


async def test_a_prediction_cancelled_upstream_ends_the_call_non_ok(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["replicate"]
    upstream.replay.play("canceled.sse")
    answer = await chat(llm, service, request_for(upstream))
    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.reason() == "PROVIDER_STREAM_ERROR"
    assert answer.metadata()["done_reason"] == "canceled"
    assert answer.text == "Hello!" and not answer.finishes


async def test_a_model_that_cannot_stream_fails_the_precondition_and_is_cancelled(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["replicate"]
    upstream.replay.play("model.no_stream.json")
    answer = await chat(llm, service, request_for(upstream))
    assert answer.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert answer.reason() == "STREAMING_NOT_SUPPORTED"
    assert answer.chunks == []
    async with asyncio.timeout(1.0):
        await upstream.replay.went_away.wait()
    assert upstream.replay.predictions is not None and upstream.replay.predictions.cancelled


async def test_a_caller_that_leaves_cancels_the_prediction(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["replicate"]
    flow = upstream.replay.predictions
    assert flow is not None
    flow.cancelled.clear()
    flow.cancel_arrived.clear()
    upstream.replay.play(Reply("text.sse", event_delay=0.1))
    call = llm.chat(request_for(upstream), metadata=service.auth(), timeout=10)
    received = Answer()
    async for chunk in call:
        received.chunks.append(chunk)
        if len(received.texts) == 2:
            break
    call.cancel()

    async with asyncio.timeout(2.0):
        await flow.cancel_arrived.wait()
    assert upstream.replay.prediction_requests[-1].path.endswith("/cancel")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tools": [Tool(name="get_weather")]}, "tools"),
        (
            {
                "messages": [
                    *user_says(),
                    Message(
                        role=Role.ASSISTANT,
                        tool_calls=[ToolCall(id="c1", name="f", arguments_json="{}")],
                    ),
                ]
            },
            "messages[1]",
        ),
        (
            {"parameters": ModelParameters(reasoning_effort=ReasoningEffort.LOW)},
            "parameters.reasoning_effort",
        ),
        ({"model": "not a model"}, "model"),
    ],
)
async def test_what_replicate_cannot_take_is_refused_by_name(
    fields: dict[str, object],
    field: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["replicate"]
    answer = await chat(llm, service, request_for(upstream, **fields))
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None and field in field_violations(answer.error)
    assert error_info(answer.error).metadata.get("provider", "replicate") == "replicate"
    assert upstream.replay.requests == []
