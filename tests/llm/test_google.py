"""Gemini's and Vertex AI's own traps: what their streams say, what their requests carry, and
how Vertex obtains, shares and loses its access token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from integration_api_proto.google.protobuf import Struct
from integration_api_proto.integration.v1 import (
    ChatRequest,
    CheckOutcome,
    GetCredentialRequest,
    Message,
    ModelParameters,
    ReasoningBlock,
    ReasoningEffort,
    Role,
    Tool,
    ToolCall,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from tests.credentials.helpers import field_violations
from tests.fakes.google_oauth import TOKEN_PATH, FakeServiceAccount, install_token_endpoint
from tests.fakes.server import FakeServer
from tests.llm.support import chat, user_says
from tests.llm.upstreams import GOOGLE, Upstream, service_account_secret, store_credential
from tests.support.service import RunningService

WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}


def request_for(upstream: Upstream, **fields: Any) -> ChatRequest:
    request = ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    for name, value in fields.items():
        setattr(request, name, value)
    return request


@pytest.mark.parametrize(
    ("scenario", "raw_reason"),
    [("prompt_blocked.sse", "PROHIBITED_CONTENT"), ("content_filter.sse", "SAFETY")],
)
async def test_a_blocked_prompt_or_answer_finishes_as_content_filter(
    scenario: str,
    raw_reason: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["gemini"]
    upstream.replay.play(scenario)
    answer = await chat(llm, service, request_for(upstream))
    assert answer.code() == grpc.StatusCode.OK, answer.error
    (finish,) = answer.finishes
    assert (finish.reason.name, finish.raw_reason) == ("CONTENT_FILTER", raw_reason)


async def test_an_unknown_finish_reason_is_other_with_the_raw_reason(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["gemini"]
    upstream.replay.play("malformed_call.sse")
    answer = await chat(llm, service, request_for(upstream))
    (finish,) = answer.finishes
    assert (finish.reason.name, finish.raw_reason) == ("OTHER", "MALFORMED_FUNCTION_CALL")


async def test_thoughts_stream_as_reasoning_and_count_as_output(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["gemini"]
    upstream.replay.play("thinking.sse")
    answer = await chat(llm, service, request_for(upstream))
    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.kinds[:2] == ["reasoning_delta", "reasoning_delta"]
    assert answer.reasoning == "**Greeting back**\n\nThe user says hi. A short greeting fits."
    signed = [chunk.reasoning_delta for chunk in answer.chunks if chunk.reasoning_delta]
    assert [delta.signature for delta in signed] == ["", "CpIBAVSoXO7wq1Zb"]
    assert answer.text == "Hello!"
    (usage,) = answer.usages
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens) == (12, 47, 45)


async def test_a_call_keeps_geminis_id_and_its_signature_comes_first(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["gemini"]
    upstream.replay.play("tool_call_signed.sse")
    answer = await chat(llm, service, request_for(upstream))
    assert answer.kinds == ["reasoning_delta", "tool_call", "usage", "finish"]
    assert answer.chunks[0].reasoning_delta is not None
    assert answer.chunks[0].reasoning_delta.signature == "EqUCCqICAdHtim9"
    assert [(call.id, call.name) for call in answer.tool_calls] == [("fc_8a1b2c3d", "get_weather")]
    assert answer.finishes[0].reason.name == "TOOL_CALLS"


async def test_parallel_calls_without_ids_get_stable_distinct_ids(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["vertex-ai"]
    upstream.replay.play("tool_calls_parallel.sse")
    first = await chat(llm, service, request_for(upstream))
    second = await chat(llm, service, request_for(upstream))
    assert [call.id for call in first.tool_calls] == ["call_0", "call_1"]
    assert [call.id for call in second.tool_calls] == ["call_0", "call_1"]


@pytest.mark.parametrize("provider", GOOGLE)
async def test_the_key_never_rides_in_the_url(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("text.sse")
    await chat(llm, service, request_for(upstream))
    (sent,) = upstream.replay.requests
    assert sent.query == {"alt": "sse"}
    assert upstream.key not in sent.path
    header = "x-goog-api-key" if provider == "gemini" else "authorization"
    assert upstream.key in sent.headers[header]


@pytest.mark.parametrize(
    ("parameters", "thinking"),
    [
        (ModelParameters(reasoning_budget_tokens=1024), {"thinkingBudget": 1024}),
        (ModelParameters(reasoning_effort=ReasoningEffort.LOW), {"thinkingLevel": "low"}),
    ],
)
async def test_reasoning_is_asked_for_with_a_budget_or_a_level_and_its_thoughts(
    parameters: ModelParameters,
    thinking: dict[str, object],
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["gemini"]
    upstream.replay.play("text.sse")
    answer = await chat(llm, service, request_for(upstream, parameters=parameters))
    assert answer.code() == grpc.StatusCode.OK, answer.error
    sent = upstream.replay.requests[-1].json()["generationConfig"]["thinkingConfig"]
    assert sent == {**thinking, "includeThoughts": True}


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        (
            "parameters.reasoning_effort",
            {
                "parameters": ModelParameters(
                    reasoning_effort=ReasoningEffort.HIGH, reasoning_budget_tokens=512
                )
            },
        ),
        (
            "messages[1].tool_call_id",
            {"messages": [*user_says(), Message(role=Role.TOOL, tool_call_id="x", text="{}")]},
        ),
        (
            "parameters.parallel_tool_calls",
            {
                "tools": [Tool(name="get_weather")],
                "parameters": ModelParameters(parallel_tool_calls=True),
            },
        ),
    ],
)
async def test_what_gemini_cannot_take_is_refused_naming_the_field(
    field: str,
    changes: dict[str, Any],
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["gemini"]
    answer = await chat(llm, service, request_for(upstream, **changes))
    assert answer.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.error is not None
    assert field in field_violations(answer.error)
    assert upstream.replay.requests == []


async def test_history_puts_parallel_results_in_one_turn_and_signatures_on_the_first_call(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["gemini"]
    upstream.replay.play("text.sse")
    calls = [
        ToolCall(id="call_0", name="get_weather", arguments_json='{"city":"Paris"}'),
        ToolCall(id="fc_2", name="get_time", arguments_json="{}"),
    ]
    history = [
        *user_says("Weather and time?"),
        Message(
            role=Role.ASSISTANT,
            reasoning=[ReasoningBlock(signature="EqUC")],
            tool_calls=calls,
            cache_breakpoint=True,
        ),
        Message(role=Role.TOOL, tool_call_id="call_0", text='{"celsius": 21}'),
        Message(role=Role.TOOL, tool_call_id="fc_2", text='"10:00"'),
    ]
    answer = await chat(llm, service, request_for(upstream, messages=history))
    assert answer.code() == grpc.StatusCode.OK, answer.error
    contents = upstream.replay.requests[-1].json()["contents"]
    assert [content["role"] for content in contents] == ["user", "model", "user"]
    assert contents[1]["parts"] == [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": "EqUC",
        },
        {"functionCall": {"name": "get_time", "args": {}, "id": "fc_2"}},
    ]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"celsius": 21}}},
        {"functionResponse": {"name": "get_time", "response": {"output": "10:00"}, "id": "fc_2"}},
    ]


async def test_tools_are_declared_with_their_json_schema_and_choice_auto(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    from integration_api_proto.integration.v1 import ToolChoice, ToolChoiceMode

    upstream = all_upstreams["vertex-ai"]
    upstream.replay.play("text.sse")
    tool = Tool(name="get_weather", parameters=Struct.from_dict(WEATHER_SCHEMA))
    request = request_for(upstream, tools=[tool], tool_choice=ToolChoice(mode=ToolChoiceMode.AUTO))
    await chat(llm, service, request)
    body = upstream.replay.requests[-1].json()
    assert body["tools"] == [
        {"functionDeclarations": [{"name": "get_weather", "parametersJsonSchema": WEATHER_SCHEMA}]}
    ]
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}


class TokenEndpoint:
    """A Google token endpoint of its own, and a Vertex credential whose key it knows."""

    def __init__(self, server: FakeServer, credential_id: str) -> None:
        self.server = server
        self.credential_id = credential_id

    @property
    def exchanges(self) -> int:
        return sum(1 for request in self.server.requests if request.path == TOKEN_PATH)


@pytest.fixture
async def token_endpoint(
    service: RunningService, all_upstreams: dict[str, Upstream]
) -> AsyncIterator[TokenEndpoint]:
    """First a token that is already due for renewal (60 s left), then hour-long ones."""
    lifetimes = [60]

    def issue() -> dict[str, object]:
        lifetime = lifetimes.pop(0) if lifetimes else 3599
        return {"access_token": f"ya29.single-{len(lifetimes)}-{lifetime}", "expires_in": lifetime}

    account = FakeServiceAccount.generate()
    async with FakeServer() as server:
        install_token_endpoint(server, [account], issue, delay_seconds=0.2)
        secret = service_account_secret(account, server.url + TOKEN_PATH)
        replay = all_upstreams["vertex-ai"].replay
        credential_id = await store_credential(
            service, "vertex-ai", replay.base_url, "", secret=secret
        )
        yield TokenEndpoint(server, credential_id)


async def test_fifty_chats_on_an_expired_token_share_one_token_request(
    token_endpoint: TokenEndpoint,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["vertex-ai"]
    upstream.replay.play("text.sse")
    request = ChatRequest(credential_id=token_endpoint.credential_id, messages=user_says())
    first = await chat(llm, service, request)
    assert first.code() == grpc.StatusCode.OK, first.error
    assert token_endpoint.exchanges == 1

    answers = await asyncio.gather(*(chat(llm, service, request) for _ in range(50)))
    assert [answer.code() for answer in answers] == [grpc.StatusCode.OK] * 50
    assert token_endpoint.exchanges == 2, "the stale token is renewed once for all fifty"
    bearers = {request.headers["authorization"] for request in upstream.replay.requests[1:]}
    assert bearers == {"Bearer ya29.single-0-3599"}

    await chat(llm, service, request)
    assert token_endpoint.exchanges == 2, "a fresh token is reused"


async def test_a_refused_grant_rejects_the_vertex_credential_and_is_recorded(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    known, stranger = FakeServiceAccount.generate(), FakeServiceAccount.generate("x@p.iam.gsa")
    async with FakeServer() as server:
        install_token_endpoint(server, [known])
        upstream = all_upstreams["vertex-ai"]
        secret = service_account_secret(stranger, server.url + TOKEN_PATH)
        credential_id = await store_credential(
            service, "vertex-ai", upstream.replay.base_url, "", secret=secret
        )
        answer = await chat(
            llm, service, ChatRequest(credential_id=credential_id, messages=user_says())
        )
    assert answer.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert answer.reason() == "CREDENTIAL_REJECTED"
    assert answer.error is not None
    # The token endpoint here is not Google's own host, so its text is not quoted; its error
    # code is kept.
    assert answer.metadata().get("provider_error_type") == "invalid_grant"
    assert "PRIVATE KEY" not in (answer.error.details() or "")
    assert upstream.replay.requests == []
    stored = await CredentialServiceStub(service.channel).get_credential(
        GetCredentialRequest(id=credential_id), metadata=service.auth()
    )
    assert stored.credential is not None and stored.credential.last_check is not None
    assert stored.credential.last_check.outcome == CheckOutcome.INVALID


def test_every_trap_fixture_is_framed_with_crlf() -> None:
    from tests.fakes.replay import LAYOUTS, fixture_path

    for provider in GOOGLE:
        for path in fixture_path(LAYOUTS[provider], "").glob("*.sse"):
            body = path.read_bytes()
            assert body.endswith(b"\r\n\r\n") and b"\n" not in body.replace(b"\r\n", b""), path
            for event in body.split(b"\r\n\r\n")[:-1]:
                json.loads(event.removeprefix(b"data: "))


async def test_a_token_vertex_refuses_is_forgotten_and_the_next_call_gets_a_new_one(
    token_endpoint: TokenEndpoint,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams["vertex-ai"]
    request = ChatRequest(credential_id=token_endpoint.credential_id, messages=user_says())
    upstream.replay.play("text.sse", "text.sse", "unauthorized.http", "text.sse")
    for _ in range(2):
        assert (await chat(llm, service, request)).code() == grpc.StatusCode.OK
    assert token_endpoint.exchanges == 2

    refused = await chat(llm, service, request)
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await chat(llm, service, request)).code() == grpc.StatusCode.OK
    assert token_endpoint.exchanges == 3
