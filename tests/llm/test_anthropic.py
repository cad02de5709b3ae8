"""Anthropic through the real service: what is sent upstream, and its own stream's traps."""

from __future__ import annotations

import grpc
import pytest
from integration_api_proto.google.protobuf import Struct
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    ChatRequest,
    ContentPart,
    CreateCredentialRequest,
    CredentialConfig,
    CredentialSecret,
    FinishReason,
    ImagePart,
    Message,
    ModelParameters,
    ReasoningBlock,
    ReasoningEffort,
    ResponseFormat,
    ResponseFormatType,
    Role,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from tests.credentials.helpers import field_violations
from tests.llm.snapshots import assert_matches_snapshot, request_snapshot
from tests.llm.support import Answer, chat, user_says
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}
MAX_TOKENS_FIELD = "config.extra['max_tokens']"


@pytest.fixture
def anthropic(all_upstreams: dict[str, Upstream]) -> Upstream:
    return all_upstreams["anthropic"]


def every_parameter(credential_id: str) -> ChatRequest:
    """A request using every part of the contract Anthropic can take."""
    signed = ReasoningBlock(text="Paris, so get_weather.", signature="EqQBCgIYAhIM1gbc")
    return ChatRequest(
        credential_id=credential_id,
        messages=[
            Message(role=Role.SYSTEM, text="You are terse.", cache_breakpoint=True),
            Message(role=Role.USER, text="What is on this picture,"),
            Message(
                role=Role.USER,
                text="and the weather in Paris?",
                parts=[
                    ContentPart(image=ImagePart(url="https://example.com/cat.png")),
                    ContentPart(image=ImagePart(data=b"\x89PNG", media_type="image/png")),
                ],
            ),
            Message(
                role=Role.ASSISTANT,
                text="Let me check.",
                reasoning=[signed, ReasoningBlock(redacted_data="EmwKAhgB")],
                tool_calls=[
                    ToolCall(id="toolu_1", name="get_weather", arguments_json='{"city":"Paris"}'),
                    ToolCall(id="toolu_2", name="get_weather", arguments_json=""),
                ],
            ),
            Message(role=Role.TOOL, tool_call_id="toolu_1", text='{"celsius":21}'),
            Message(role=Role.TOOL, tool_call_id="toolu_2", text='{"celsius":19}'),
            Message(role=Role.USER, text="Summarize.", cache_breakpoint=True),
        ],
        tools=[
            Tool(
                name="get_weather",
                description="Current weather",
                parameters=Struct.from_dict(WEATHER_SCHEMA),
            ),
            Tool(name="get_time"),
        ],
        cache_tools=True,
        tool_choice=ToolChoice(mode=ToolChoiceMode.TOOL, tool_name="get_weather"),
        parameters=ModelParameters(
            temperature=0.2,
            top_p=0.9,
            max_tokens=256,
            stop=["END"],
            parallel_tool_calls=False,
        ),
    )


async def test_the_request_sent_upstream_matches_the_snapshot(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("text.sse")
    answer = await chat(llm, service, every_parameter(anthropic.credential_id))
    assert answer.code() == grpc.StatusCode.OK, answer.error

    (sent,) = anthropic.replay.requests
    assert sent.headers["x-api-key"] == anthropic.key
    assert "authorization" not in sent.headers
    snapshot = request_snapshot(sent, anthropic.key, anthropic.replay.layout.base_path)
    assert_matches_snapshot("anthropic", "chat_every_parameter", snapshot)


async def test_a_thinking_budget_enables_thinking_on_top_of_the_default_max_tokens(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("thinking.sse")
    request = ChatRequest(
        credential_id=anthropic.credential_id,
        messages=user_says(),
        parameters=ModelParameters(reasoning_budget_tokens=2048),
    )
    answer = await chat(llm, service, request)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    body = anthropic.replay.requests[-1].json()
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 4096 + 2048


async def test_thinking_streams_as_reasoning_with_its_signature_and_redacted_block(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("thinking.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=anthropic.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.shape == ["reasoning_delta"] * 4 + ["text_delta", "usage", "finish"]
    assert answer.reasoning == "The user greets me. A short greeting back fits."
    deltas = [chunk.reasoning_delta for chunk in answer.chunks if chunk.reasoning_delta]
    assert deltas[2].signature.startswith("EqQBCgIYAhIM") and not deltas[2].text
    assert deltas[3].redacted_data.startswith("EmwKAhgB")
    assert answer.text == "Hello!"


@pytest.mark.parametrize(
    ("scenario", "reason", "raw_reason"),
    [
        ("stop_sequence", FinishReason.STOP, "stop_sequence"),
        ("pause_turn", FinishReason.OTHER, "pause_turn"),
        ("context_window_exceeded", FinishReason.OTHER, "model_context_window_exceeded"),
    ],
)
async def test_every_stop_reason_is_mapped_and_kept_raw(
    scenario: str,
    reason: FinishReason,
    raw_reason: str,
    llm: LlmServiceStub,
    service: RunningService,
    anthropic: Upstream,
) -> None:
    anthropic.replay.play(scenario + ".sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=anthropic.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    (finish,) = answer.finishes
    assert (finish.reason, finish.raw_reason) == (reason, raw_reason)


async def test_cache_reads_and_writes_count_as_input_and_are_reported_apart(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("prompt_cache.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=anthropic.credential_id, messages=user_says())
    )
    (usage,) = answer.usages
    assert usage.input_tokens == 21 + 2400 + 1800
    assert usage.cached_input_tokens == 2400
    assert usage.cache_write_input_tokens == 1800
    assert usage.output_tokens == 7
    assert usage.reasoning_tokens is None


async def test_unknown_events_blocks_and_deltas_are_ignored_and_an_empty_input_is_an_object(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("unknown_events.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=anthropic.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.text == "Hello!"
    assert answer.called() == [("get_weather", {})]
    assert answer.tool_calls[0].index == 0
    assert answer.tool_calls[0].id == "toolu_01T1x1fJ34qAmk2tNTrN7Up6"


async def test_an_invalid_request_error_event_ends_the_call_invalid(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("error_event_invalid_request.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=anthropic.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.reason() == "PROVIDER_STREAM_ERROR"
    assert answer.metadata()["provider_error_type"] == "invalid_request_error"
    assert answer.text == "Hello! How" and not answer.finishes


async def test_an_overloaded_answer_before_the_stream_is_retried(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("overloaded.http", "text.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=anthropic.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert len(anthropic.replay.requests) == 2


async def test_a_reached_spend_limit_is_not_retried(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    anthropic.replay.play("spend_limit.http", "text.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=anthropic.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert answer.reason() == "QUOTA_EXHAUSTED"
    assert len(anthropic.replay.requests) == 1


async def _store(service: RunningService, base_url: str, extra: dict[str, str]) -> Answer | str:
    try:
        reply = await CredentialServiceStub(service.channel).create_credential(
            CreateCredentialRequest(
                provider="anthropic",
                name="claude-extra",
                secret=CredentialSecret(api_key=ApiKeySecret(key="sk-ant-api03-" + "k" * 40)),
                config=CredentialConfig(
                    base_url=base_url, default_model="claude-sonnet-4-5", extra=extra
                ),
                skip_verification=True,
            ),
            metadata=service.auth(),
        )
    except grpc.aio.AioRpcError as error:
        return Answer(error=error)
    assert reply.credential is not None
    return reply.credential.id


async def test_the_credentials_max_tokens_is_the_default_and_without_one_4096(
    llm: LlmServiceStub, service: RunningService, anthropic: Upstream
) -> None:
    credential_id = await _store(service, anthropic.replay.base_url, {"max_tokens": "1000"})
    assert isinstance(credential_id, str)
    anthropic.replay.play("text.sse")
    for chosen in (credential_id, anthropic.credential_id):
        await chat(llm, service, ChatRequest(credential_id=chosen, messages=user_says()))
    sent = [request.json()["max_tokens"] for request in anthropic.replay.requests]
    assert sent == [1000, 4096]


@pytest.mark.parametrize("value", ["0", "-5", "many", "1000001", "1.5"])
async def test_a_max_tokens_default_that_is_not_a_usable_number_is_refused(
    value: str, service: RunningService, anthropic: Upstream
) -> None:
    refused = await _store(service, anthropic.replay.base_url, {"max_tokens": value})
    assert isinstance(refused, Answer) and refused.error is not None
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert MAX_TOKENS_FIELD in field_violations(refused.error)


def _refused(parameters: ModelParameters) -> ChatRequest:
    return ChatRequest(messages=user_says(), parameters=parameters)


def _tools_forced(mode: ToolChoiceMode) -> ChatRequest:
    request = _refused(ModelParameters(reasoning_budget_tokens=2048))
    request.tools = [Tool(name="get_weather")]
    request.tool_choice = ToolChoice(mode=mode, tool_name="get_weather")
    return request


def _breakpoints(count: int) -> ChatRequest:
    messages = [Message(role=Role.USER, text=f"{n}", cache_breakpoint=True) for n in range(count)]
    return ChatRequest(messages=messages)


REFUSED = {
    "parameters.seed": _refused(ModelParameters(seed=42)),
    "parameters.frequency_penalty": _refused(ModelParameters(frequency_penalty=0.1)),
    "parameters.presence_penalty": _refused(ModelParameters(presence_penalty=0.1)),
    "parameters.reasoning_effort": _refused(ModelParameters(reasoning_effort=ReasoningEffort.HIGH)),
    "parameters.response_format.type": _refused(
        ModelParameters(response_format=ResponseFormat(type=ResponseFormatType.JSON_OBJECT))
    ),
    "parameters.reasoning_budget_tokens": _refused(ModelParameters(reasoning_budget_tokens=512)),
    "parameters.temperature": _refused(ModelParameters(temperature=1.5)),
    "tool_choice.mode": _tools_forced(ToolChoiceMode.REQUIRED),
    "messages[4].cache_breakpoint": _breakpoints(5),
    "messages[0].parts[0].image.media_type": ChatRequest(
        messages=[
            Message(
                role=Role.USER,
                parts=[ContentPart(image=ImagePart(data=b"BM", media_type="image/bmp"))],
            )
        ]
    ),
    "messages[0].tool_calls[0].arguments_json": ChatRequest(
        messages=[
            Message(
                role=Role.ASSISTANT,
                tool_calls=[ToolCall(id="toolu_1", name="get_weather", arguments_json="[1]")],
            )
        ]
    ),
}
REFUSED_TOO = {
    "parameters.reasoning_budget_tokens": _refused(
        ModelParameters(max_tokens=2048, reasoning_budget_tokens=2048)
    ),
    "parameters.temperature": _refused(
        ModelParameters(reasoning_budget_tokens=2048, temperature=0.5)
    ),
    "tool_choice.mode": _tools_forced(ToolChoiceMode.TOOL),
}


@pytest.mark.parametrize(
    ("field", "request_"),
    [*REFUSED.items(), *REFUSED_TOO.items()],
    ids=[*REFUSED, *(f"{name} (thinking)" for name in REFUSED_TOO)],
)
async def test_what_anthropic_cannot_take_is_refused_naming_the_field_before_any_call(
    field: str,
    request_: ChatRequest,
    llm: LlmServiceStub,
    service: RunningService,
    anthropic: Upstream,
) -> None:
    request_.credential_id = anthropic.credential_id
    answer = await chat(llm, service, request_)
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None
    assert field in field_violations(answer.error)
    assert anthropic.replay.requests == []
