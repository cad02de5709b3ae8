"""What the service sends upstream, and what it refuses before sending anything."""

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
    DisableCredentialRequest,
    ImagePart,
    Message,
    ModelParameters,
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
from tests.llm.support import chat, user_says
from tests.llm.upstreams import GOOGLE, OPENAI_FAMILY, PROVIDERS, Upstream, store_credential
from tests.support.service import RunningService

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "City name"}},
    "required": ["city"],
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["summary", "confidence"],
    "additionalProperties": False,
}


def every_parameter(credential_id: str) -> ChatRequest:
    """A request using every part of the contract the OpenAI family can take."""
    return ChatRequest(
        credential_id=credential_id,
        messages=[
            Message(role=Role.SYSTEM, text="You are terse."),
            Message(
                role=Role.USER,
                text="What is on this picture, and the weather in Paris?",
                parts=[
                    ContentPart(image=ImagePart(url="https://example.com/cat.png")),
                    ContentPart(image=ImagePart(data=b"\x89PNG", media_type="image/png")),
                ],
            ),
            Message(
                role=Role.ASSISTANT,
                tool_calls=[
                    ToolCall(id="call_1", name="get_weather", arguments_json='{"city":"Paris"}')
                ],
            ),
            Message(role=Role.TOOL, tool_call_id="call_1", text='{"celsius":21}'),
            Message(role=Role.USER, text="Summarize."),
        ],
        tools=[
            Tool(
                name="get_weather",
                description="Current weather",
                parameters=Struct.from_dict(WEATHER_SCHEMA),
            )
        ],
        tool_choice=ToolChoice(mode=ToolChoiceMode.TOOL, tool_name="get_weather"),
        parameters=ModelParameters(
            temperature=0.2,
            top_p=0.9,
            max_tokens=256,
            stop=["END"],
            seed=42,
            response_format=ResponseFormat(
                type=ResponseFormatType.JSON_SCHEMA,
                schema_name="answer",
                json_schema=Struct.from_dict(ANSWER_SCHEMA),
                strict=True,
            ),
            frequency_penalty=0.1,
            presence_penalty=0.2,
        ),
    )


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_request_sent_upstream_matches_the_providers_snapshot(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("text.sse")
    answer = await chat(llm, service, every_parameter(upstream.credential_id))
    assert answer.code() == grpc.StatusCode.OK, answer.error

    (sent,) = upstream.replay.requests
    snapshot = request_snapshot(sent, upstream.key, upstream.replay.layout.base_path)
    assert_matches_snapshot(provider, "chat_every_parameter", snapshot)


@pytest.mark.parametrize("provider", OPENAI_FAMILY)
async def test_usage_is_always_asked_for_unless_the_provider_sends_it_unasked(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("text.sse")
    await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    )
    body = upstream.replay.requests[-1].json()
    if provider == "mistral":
        assert "stream_options" not in body
    else:
        assert body["stream_options"] == {"include_usage": True}


async def test_a_self_hosted_server_without_a_key_gets_no_authorization_header(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai-compatible"]
    upstream.replay.play("text.sse")
    await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    )
    assert "authorization" not in upstream.replay.requests[-1].headers


@pytest.mark.parametrize(
    ("provider", "refused"),
    [(provider, provider in ("huggingface", *GOOGLE)) for provider in PROVIDERS],
)
async def test_a_parameter_the_provider_cannot_take_is_refused_naming_it(
    provider: str,
    refused: bool,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("text.sse")
    request = ChatRequest(
        credential_id=upstream.credential_id,
        messages=user_says(),
        tools=[Tool(name="get_weather", parameters=Struct.from_dict(WEATHER_SCHEMA))],
        parameters=ModelParameters(parallel_tool_calls=False),
    )
    answer = await chat(llm, service, request)
    if refused:
        assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert answer.error is not None
        assert "parameters.parallel_tool_calls" in field_violations(answer.error)
        assert upstream.replay.requests == []
    else:
        assert answer.code() == grpc.StatusCode.OK
        assert upstream.replay.requests[-1].json()["parallel_tool_calls"] is False


def _with(**changes: object) -> ChatRequest:
    request = ChatRequest(messages=user_says())
    for name, value in changes.items():
        setattr(request, name, value)
    return request


INVALID_REQUESTS = {
    "messages": _with(messages=[]),
    "messages[0].role": _with(messages=[Message(text="Hi")]),
    "tool_choice.tool_name": _with(
        tools=[Tool(name="get_weather")],
        tool_choice=ToolChoice(mode=ToolChoiceMode.TOOL, tool_name="get_time"),
    ),
    "tool_choice.mode": _with(tool_choice=ToolChoice(mode=ToolChoiceMode.REQUIRED)),
    "parameters.response_format.json_schema": _with(
        parameters=ModelParameters(
            response_format=ResponseFormat(type=ResponseFormatType.JSON_SCHEMA)
        )
    ),
    "parameters.max_tokens": _with(parameters=ModelParameters(max_tokens=0)),
    "parameters.parallel_tool_calls": _with(parameters=ModelParameters(parallel_tool_calls=True)),
    "messages[0].tool_call_id": _with(messages=[Message(role=Role.TOOL, text="{}")]),
    "messages[0].parts[0].image": _with(
        messages=[
            Message(
                role=Role.SYSTEM,
                parts=[ContentPart(image=ImagePart(url="https://example.com/a.png"))],
            )
        ]
    ),
    "messages[0].parts[0].image.media_type": _with(
        messages=[Message(role=Role.USER, parts=[ContentPart(image=ImagePart(data=b"x"))])]
    ),
}


@pytest.mark.parametrize("field", list(INVALID_REQUESTS))
async def test_an_invalid_request_is_refused_naming_the_field_before_any_upstream_call(
    field: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["openai"]
    request = INVALID_REQUESTS[field]
    request.credential_id = upstream.credential_id
    answer = await chat(llm, service, request)
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None
    assert field in field_violations(answer.error)
    assert upstream.replay.requests == []


async def test_without_a_model_in_the_request_or_the_credential_the_call_is_refused(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    credential_id = await store_credential(
        service, "openai", upstream.replay.base_url, upstream.key, default_model=""
    )
    answer = await chat(
        llm, service, ChatRequest(credential_id=credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None
    assert "model" in field_violations(answer.error)
    assert upstream.replay.requests == []


async def test_another_tenants_or_an_unknown_credential_is_not_found(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    request = ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    elsewhere = await chat(llm, service, request, organization_id="org-other")
    unknown = await chat(
        llm,
        service,
        ChatRequest(credential_id="7d1c2f9e-0000-4000-8000-000000000000", messages=user_says()),
    )
    assert elsewhere.code() == unknown.code() == grpc.StatusCode.NOT_FOUND
    assert upstream.replay.requests == []


async def test_a_disabled_credential_fails_the_precondition(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    credential_id = await store_credential(
        service, "openai", upstream.replay.base_url, upstream.key
    )
    await CredentialServiceStub(service.channel).disable_credential(
        DisableCredentialRequest(id=credential_id), metadata=service.auth()
    )
    answer = await chat(
        llm, service, ChatRequest(credential_id=credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert answer.reason() == "CREDENTIAL_DISABLED"
    assert upstream.replay.requests == []


async def test_a_provider_without_chat_is_refused(
    llm: LlmServiceStub, service: RunningService
) -> None:
    reply = await CredentialServiceStub(service.channel).create_credential(
        CreateCredentialRequest(
            provider="deepgram",
            name="speech",
            secret=CredentialSecret(api_key=ApiKeySecret(key="dg-" + "k" * 32)),
            config=CredentialConfig(default_model="nova-3"),
            skip_verification=True,
        ),
        metadata=service.auth(),
    )
    assert reply.credential is not None
    answer = await chat(
        llm, service, ChatRequest(credential_id=reply.credential.id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert answer.reason() == "CAPABILITY_NOT_SUPPORTED"
