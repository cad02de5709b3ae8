"""Bedrock through the real service: what is sent upstream (signed), and its own stream's traps.

The replay server's Bedrock checks every request's SigV4 signature (or Bedrock API key) before
answering with real event-stream frames.
"""

from __future__ import annotations

import re

import grpc
import pytest
from integration_api_proto.google.protobuf import Struct
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    AwsSecret,
    ChatRequest,
    ContentPart,
    CredentialSecret,
    FinishReason,
    ImagePart,
    Message,
    ModelParameters,
    ReasoningBlock,
    Role,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
)
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from tests.credentials.helpers import field_violations
from tests.fakes.aws_sigv4 import BEDROCK_REPLAY_API_KEY, BEDROCK_REPLAY_TEMPORARY
from tests.llm.snapshots import assert_matches_snapshot, request_snapshot
from tests.llm.support import Answer, chat, user_says
from tests.llm.upstreams import Upstream, store_credential
from tests.support.service import RunningService

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}
_SIGNATURE = re.compile(r"(?<=/)\d{8}(?=/)|(?<=Signature=)[0-9a-f]{64}")


@pytest.fixture
def bedrock(all_upstreams: dict[str, Upstream]) -> Upstream:
    return all_upstreams["bedrock"]


def every_parameter(credential_id: str) -> ChatRequest:
    """A request using every part of the contract Converse can take."""
    signed = ReasoningBlock(text="Paris, so get_weather.", signature="EqQBCgIYAhIM1gbc")
    return ChatRequest(
        credential_id=credential_id,
        messages=[
            Message(role=Role.SYSTEM, text="You are terse.", cache_breakpoint=True),
            Message(role=Role.USER, text="What is on this picture,"),
            Message(
                role=Role.USER,
                text="and the weather in Paris?",
                parts=[ContentPart(image=ImagePart(data=b"\x89PNG", media_type="image/png"))],
            ),
            Message(
                role=Role.ASSISTANT,
                text="Let me check.",
                reasoning=[signed, ReasoningBlock(redacted_data="EmwKAhgB")],
                tool_calls=[
                    ToolCall(id="tooluse_1", name="get_weather", arguments_json='{"city":"Paris"}'),
                    ToolCall(id="tooluse_2", name="get_weather", arguments_json=""),
                ],
            ),
            Message(role=Role.TOOL, tool_call_id="tooluse_1", text='{"celsius":21}'),
            Message(role=Role.TOOL, tool_call_id="tooluse_2", text='{"celsius":19}'),
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
            temperature=0.2, top_p=0.9, max_tokens=256, stop=["END"], parallel_tool_calls=True
        ),
    )


async def test_the_request_sent_upstream_is_signed_and_matches_the_snapshot(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play("text.sse")
    answer = await chat(llm, service, every_parameter(bedrock.credential_id))
    assert answer.code() == grpc.StatusCode.OK, answer.error

    (sent,) = bedrock.replay.requests
    assert sent.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIA")
    assert "x-amz-date" in sent.headers
    snapshot = request_snapshot(sent, bedrock.key, bedrock.replay.layout.base_path)
    headers = snapshot["headers"]
    assert isinstance(headers, dict)
    # The date and the signature change with the clock; what was signed does not.
    headers["authorization"] = _SIGNATURE.sub("<varies>", headers["authorization"])
    assert_matches_snapshot("bedrock", "chat_every_parameter", snapshot)


async def test_an_inference_profile_arn_travels_as_one_path_segment_and_its_signature_holds(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
    bedrock.replay.play("text.sse")
    answer = await chat(
        llm,
        service,
        ChatRequest(credential_id=bedrock.credential_id, model=arn, messages=user_says()),
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert bedrock.replay.requests[-1].path == f"/model/{arn}/converse-stream"
    assert answer.finishes[0].model == arn


@pytest.mark.parametrize(
    "secret",
    [
        CredentialSecret(
            aws=AwsSecret(
                access_key_id=BEDROCK_REPLAY_TEMPORARY.access_key_id,
                secret_access_key=BEDROCK_REPLAY_TEMPORARY.secret_access_key,
                session_token=BEDROCK_REPLAY_TEMPORARY.session_token,
            )
        ),
        CredentialSecret(api_key=ApiKeySecret(key=BEDROCK_REPLAY_API_KEY)),
    ],
    ids=["temporary-keys", "bedrock-api-key"],
)
async def test_temporary_keys_and_a_bedrock_api_key_are_accepted(
    secret: CredentialSecret, llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    credential_id = await store_credential(
        service, "bedrock", bedrock.replay.base_url, "", secret=secret
    )
    bedrock.replay.play("text.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK, answer.error
    sent = bedrock.replay.requests[-1]
    if secret.api_key is not None:
        assert sent.headers["authorization"] == f"Bearer {BEDROCK_REPLAY_API_KEY}"
        assert "x-amz-date" not in sent.headers
    else:
        assert sent.headers["x-amz-security-token"] == BEDROCK_REPLAY_TEMPORARY.session_token
        assert "x-amz-security-token" in sent.headers["authorization"]


async def test_a_wrong_secret_fails_the_signature_check_and_the_key_is_rejected(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    secret = CredentialSecret(
        aws=AwsSecret(
            access_key_id=BEDROCK_REPLAY_TEMPORARY.access_key_id,
            secret_access_key="wrong/Secret+Key0123456789abcdefEXAMPLEKEY",
            session_token=BEDROCK_REPLAY_TEMPORARY.session_token,
        )
    )
    credential_id = await store_credential(
        service, "bedrock", bedrock.replay.base_url, "", secret=secret
    )
    bedrock.replay.play("text.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert answer.reason() == "CREDENTIAL_REJECTED"
    assert answer.metadata()["provider_error_type"] == "InvalidSignatureException"
    assert bedrock.replay.fake.requests and not answer.chunks


async def _ask(llm: LlmServiceStub, service: RunningService, bedrock: Upstream) -> Answer:
    return await chat(
        llm, service, ChatRequest(credential_id=bedrock.credential_id, messages=user_says())
    )


@pytest.mark.parametrize(
    "first", ["throttled_first", "unavailable_first", "internal_error_first", "model_error"]
)
async def test_a_retryable_failure_before_the_first_event_is_retried(
    first: str, llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play(first + (".http" if first == "model_error" else ".sse"), "text.sse")
    answer = await _ask(llm, service, bedrock)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.text == "Hello! How can I help you today?"
    assert len(bedrock.replay.requests) == 2


async def test_throttling_frames_that_keep_coming_end_resource_exhausted_after_bounded_retries(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play("throttled_first.sse")
    answer = await _ask(llm, service, bedrock)
    assert answer.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert answer.reason() == "PROVIDER_STREAM_ERROR"
    assert answer.metadata()["provider_error_type"] == "throttlingException"
    assert len(bedrock.replay.requests) == 3


@pytest.mark.parametrize(
    ("scenario", "code", "reason", "error_type"),
    [
        (
            "validation_first.sse",
            grpc.StatusCode.INVALID_ARGUMENT,
            "PROVIDER_STREAM_ERROR",
            "validationException",
        ),
        (
            "access_denied.http",
            grpc.StatusCode.FAILED_PRECONDITION,
            "PROVIDER_REJECTED_REQUEST",
            "AccessDeniedException",
        ),
        (
            "quota_exceeded.http",
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "QUOTA_EXHAUSTED",
            "ServiceQuotaExceededException",
        ),
    ],
)
async def test_a_refusal_that_waiting_will_not_fix_is_not_retried(
    scenario: str,
    code: grpc.StatusCode,
    reason: str,
    error_type: str,
    llm: LlmServiceStub,
    service: RunningService,
    bedrock: Upstream,
) -> None:
    bedrock.replay.play(scenario, "text.sse")
    answer = await _ask(llm, service, bedrock)
    assert answer.code() == code
    assert answer.reason() == reason
    assert answer.metadata()["provider_error_type"] == error_type
    assert len(bedrock.replay.requests) == 1


async def test_an_unmodeled_error_frame_mid_stream_ends_the_call_unavailable(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play("unmodeled_error.sse")
    answer = await _ask(llm, service, bedrock)
    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.reason() == "PROVIDER_STREAM_ERROR"
    assert answer.metadata()["provider_error_type"] == "InternalFailure"
    assert answer.text == "Hello!" and not answer.finishes


@pytest.mark.parametrize(
    ("scenario", "reason", "raw_reason"),
    [
        ("stop_sequence", FinishReason.STOP, "stop_sequence"),
        ("content_filtered", FinishReason.CONTENT_FILTER, "content_filtered"),
        ("malformed_model_output", FinishReason.OTHER, "malformed_model_output"),
    ],
)
async def test_every_stop_reason_is_mapped_and_kept_raw(
    scenario: str,
    reason: FinishReason,
    raw_reason: str,
    llm: LlmServiceStub,
    service: RunningService,
    bedrock: Upstream,
) -> None:
    bedrock.replay.play(scenario + ".sse")
    answer = await _ask(llm, service, bedrock)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    (finish,) = answer.finishes
    assert (finish.reason, finish.raw_reason) == (reason, raw_reason)


async def test_an_answer_without_metadata_after_message_stop_finishes_without_usage(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play("missing_metadata.sse")
    answer = await _ask(llm, service, bedrock)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    (usage,) = answer.usages
    assert usage.input_tokens is None and usage.output_tokens is None
    assert answer.finishes[0].reason == FinishReason.STOP


async def test_reasoning_streams_with_its_signature_and_redacted_block_and_cache_writes_count(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play("thinking.sse")
    answer = await _ask(llm, service, bedrock)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.shape == ["reasoning_delta"] * 4 + ["text_delta", "usage", "finish"]
    assert answer.reasoning == "The user greets me. I should greet back."
    deltas = [chunk.reasoning_delta for chunk in answer.chunks if chunk.reasoning_delta]
    assert deltas[2].signature == "EqoBCkgIARABGAIiQL2c1p0Sig" and not deltas[2].text
    assert deltas[3].redacted_data == "RXhhbXBsZVJlZGFjdGVkVGhpbmtpbmc="
    (usage,) = answer.usages
    assert (usage.input_tokens, usage.cache_write_input_tokens) == (120, 100)


async def test_a_thinking_budget_is_sent_to_anthropic_models_as_an_additional_field(
    llm: LlmServiceStub, service: RunningService, bedrock: Upstream
) -> None:
    bedrock.replay.play("thinking.sse")
    request = ChatRequest(
        credential_id=bedrock.credential_id,
        messages=user_says(),
        parameters=ModelParameters(reasoning_budget_tokens=2048, max_tokens=4096),
    )
    answer = await chat(llm, service, request)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    body = bedrock.replay.requests[-1].json()
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    assert body["inferenceConfig"] == {"maxTokens": 4096}


@pytest.mark.parametrize(
    ("model", "parameters", "tool_choice", "image", "field"),
    [
        (
            "meta.llama3-1-70b-instruct-v1:0",
            ModelParameters(reasoning_budget_tokens=2048),
            None,
            None,
            "parameters.reasoning_budget_tokens",
        ),
        ("", ModelParameters(seed=7), None, None, "parameters.seed"),
        (
            "",
            ModelParameters(parallel_tool_calls=False),
            None,
            None,
            "parameters.parallel_tool_calls",
        ),
        ("", ModelParameters(), ToolChoice(mode=ToolChoiceMode.REQUIRED), None, "tool_choice.mode"),
        (
            "",
            ModelParameters(),
            None,
            ImagePart(url="https://example.com/cat.png"),
            "messages[0].parts[1].image.url",
        ),
    ],
)
async def test_what_converse_cannot_take_is_refused_naming_the_field(
    model: str,
    parameters: ModelParameters,
    tool_choice: ToolChoice | None,
    image: ImagePart | None,
    field: str,
    llm: LlmServiceStub,
    service: RunningService,
    bedrock: Upstream,
) -> None:
    parts = [ContentPart(image=image)] if image is not None else []
    request = ChatRequest(
        credential_id=bedrock.credential_id,
        model=model,
        messages=[Message(role=Role.USER, text="Hi", parts=parts)],
        tool_choice=tool_choice,
        parameters=parameters,
    )
    answer = await chat(llm, service, request)
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None
    assert list(field_violations(answer.error)) == [field]
    assert not bedrock.replay.requests


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (ToolChoiceMode.NONE, None),
        (ToolChoiceMode.AUTO, {"auto": {}}),
        (ToolChoiceMode.REQUIRED, {"any": {}}),
    ],
)
async def test_tool_choice_becomes_converse_tool_choice_and_none_sends_no_tool_config(
    mode: ToolChoiceMode,
    expected: dict[str, object] | None,
    llm: LlmServiceStub,
    service: RunningService,
    bedrock: Upstream,
) -> None:
    bedrock.replay.play("text.sse")
    request = ChatRequest(
        credential_id=bedrock.credential_id,
        messages=user_says(),
        tools=[Tool(name="get_time")],
        tool_choice=ToolChoice(mode=mode),
    )
    answer = await chat(llm, service, request)
    assert answer.code() == grpc.StatusCode.OK, answer.error
    body = bedrock.replay.requests[-1].json()
    if expected is None:
        assert "toolConfig" not in body
    else:
        assert body["toolConfig"]["toolChoice"] == expected
