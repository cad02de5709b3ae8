"""The chat conformance suite: every chat provider, every scenario, one set of tests.

Each test runs a real gRPC client against the real server, whose credential points at a replay
server answering with the provider's recorded wire format (`tests/fixtures/<provider>/`).
A provider takes part in a scenario when it has the fixture for it.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    ChatRequest,
    CheckOutcome,
    FinishReason,
    GetCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from tests.fakes.replay import LAYOUTS, Reply, fixture_path
from tests.fakes.server import RecordedRequest
from tests.llm.support import Answer, chat, collect, user_says
from tests.llm.upstreams import (
    CHAT_PROVIDERS,
    DEFAULT_MODELS,
    TOOLLESS_CHAT_PROVIDERS,
    Upstream,
    store_credential,
)
from tests.support.service import RunningService


@dataclass(frozen=True)
class Expected:
    text: str
    calls: list[tuple[str, object]]
    reason: FinishReason
    raw_reason: str
    output_tokens: int


WEATHER = ("get_weather", {"city": "Paris"})
TIME = ("get_time", {"timezone": "Europe/Paris"})
GREETING = "Hello! How can I help you today?"

ANSWERS = {
    "text": Expected(GREETING, [], FinishReason.STOP, "stop", 9),
    "tool_call": Expected("", [WEATHER], FinishReason.TOOL_CALLS, "tool_calls", 16),
    "tool_calls_parallel": Expected("", [WEATHER, TIME], FinishReason.TOOL_CALLS, "tool_calls", 41),
    "text_then_tool_call": Expected(
        "Let me check.", [WEATHER], FinishReason.TOOL_CALLS, "tool_calls", 22
    ),
    "length": Expected("Hello! How", [], FinishReason.LENGTH, "length", 3),
    "content_filter": Expected("Hello!", [], FinishReason.CONTENT_FILTER, "content_filter", 2),
}
GOOGLE_RAW_REASONS = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
}
# Providers whose raw finish reasons differ from OpenAI's, by OpenAI's name.
RAW_REASONS = {
    "gemini": GOOGLE_RAW_REASONS,
    "vertex-ai": GOOGLE_RAW_REASONS,
    "anthropic": {
        "stop": "end_turn",
        "tool_calls": "tool_use",
        "length": "max_tokens",
        "content_filter": "refusal",
    },
    "cohere": {"stop": "COMPLETE", "tool_calls": "TOOL_CALL", "length": "MAX_TOKENS"},
    # Replicate reports no finish reason: a prediction that streamed to `done` succeeded.
    "replicate": {"stop": "succeeded"},
    "bedrock": {
        "stop": "end_turn",
        "tool_calls": "tool_use",
        "length": "max_tokens",
        "content_filter": "guardrail_intervened",
    },
}
# Cached input tokens as each provider's fixture reports them: Azure reports 0, which stays 0.
CACHED_TOKENS = {
    "openai": 4,
    "azure-openai": 0,
    "mistral": None,
    "huggingface": None,
    "openai-compatible": None,
    "anthropic": 4,
    "gemini": 4,
    "vertex-ai": None,
    "cohere": 4,
    "replicate": None,
    "bedrock": 4,
}
ANSWERING_MODELS = {
    "openai": "gpt-4o-mini-2024-07-18",
    "azure-openai": "gpt-4o-2024-08-06",
    "mistral": "mistral-small-latest",
    "huggingface": "meta-llama/Llama-3.1-8B-Instruct",
    "openai-compatible": "Qwen/Qwen2.5-7B-Instruct",
    "anthropic": "claude-sonnet-4-5-20250929",
    "gemini": "gemini-2.5-flash",
    "vertex-ai": "gemini-2.5-flash",
    # Cohere names no model in its stream: the one the request named.
    "cohere": "command-a-03-2025",
    "replicate": "meta/meta-llama-3-8b-instruct",
    # Bedrock's stream names no model: the one asked for.
    "bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
}
# From the answer's headers, else the completion id in the chunks (Mistral, the vLLM server),
# Google's `responseId`, Cohere's message id.
REQUEST_IDS = {
    "openai": "req_0d6f8a2c4b1e4f3a9c7b5e2d1f0a3b4c",
    "azure-openai": "5b1c3d2e-4f6a-4b8c-9d0e-1f2a3b4c5d6e",
    "mistral": "5319bd0299614c679a0068a4f2c8ffd0",
    "huggingface": "Root=1-6748f0a1-7d6c5b4a3f2e1d0c9b8a7f6e",
    "openai-compatible": "chatcmpl-b9f0e3c2a1d84f6e9c7b5a3d2e1f0a9b",
    "anthropic": "req_011CUK3xV9yXcTbnRPa2v8Zq",
    "gemini": "AdVRaMmDCYekqtsPrb_-iAw",
    "vertex-ai": "tjXVaYaxFISTq8YP_MWiyAo",
    "cohere": "321d178c-2c12-44d3-ae42-2f5510f6b1cc",
    # The prediction's id.
    "replicate": "4awn473bsrztjzlx2b6ufoxkkm",
    "bedrock": "6f8e2d41-3b7c-4a59-9e0d-1c2b3a4d5e6f",
}
# A model name each provider accepts, other than the credential's default.
NAMED_MODELS = {"replicate": "acme/named-model"}
# Providers that send no retry delay with a rate limit: the service retries them.
NO_RETRY_HINT = ("bedrock",)


def raw_reason(provider: str, expected: Expected) -> str:
    return RAW_REASONS.get(provider, {}).get(expected.raw_reason, expected.raw_reason)


def model_sent(provider: str, sent: RecordedRequest) -> str:
    """The model a request named: in the body, or in the URL for Google's and Bedrock's APIs."""
    if provider in ("gemini", "vertex-ai"):
        return sent.path.rsplit("/", 1)[-1].split(":", 1)[0]
    if provider == "replicate":
        return sent.path.removeprefix("/v1/models/").removesuffix("/predictions")
    if provider == "bedrock":
        return sent.path.removeprefix("/model/").rsplit("/", 1)[0]
    return str(sent.json()["model"])


def cases(scenarios: list[str], extension: str = ".sse") -> list[tuple[str, str]]:
    # `.sse` stands for each provider's stream fixture, whatever its framing.
    """(provider, scenario) for every provider that has the scenario's fixture."""
    return [
        (provider, scenario)
        for provider in CHAT_PROVIDERS
        for scenario in scenarios
        if fixture_path(LAYOUTS[provider], scenario + extension).exists()
    ]


def request_for(upstream: Upstream, model: str = "") -> ChatRequest:
    return ChatRequest(credential_id=upstream.credential_id, model=model, messages=user_says())


def test_every_provider_has_the_core_scenarios() -> None:
    tools = ["tool_call", "tool_calls_parallel", "text_then_tool_call"]
    for provider in CHAT_PROVIDERS:
        # A provider without tools or a length finish (Replicate) has neither scenario.
        core = ["text", "error_mid_stream", "missing_done"]
        if provider not in TOOLLESS_CHAT_PROVIDERS:
            core += [*tools, "length"]
        for scenario in core:
            assert fixture_path(LAYOUTS[provider], scenario + ".sse").exists(), (provider, scenario)
        for scenario in ["unauthorized", "rate_limited", "server_error", "model_not_found"]:
            assert fixture_path(LAYOUTS[provider], scenario + ".http").exists(), (
                provider,
                scenario,
            )


@pytest.mark.parametrize(("provider", "scenario"), cases(list(ANSWERS)))
async def test_a_complete_answer_arrives_normalized(
    provider: str,
    scenario: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play(scenario + ".sse")
    answer = await chat(llm, service, request_for(upstream))
    expected = ANSWERS[scenario]

    assert answer.code() == grpc.StatusCode.OK, answer.error
    assert answer.text == expected.text
    assert answer.called() == expected.calls
    assert [call.index for call in answer.tool_calls] == list(range(len(expected.calls)))
    assert all(call.id for call in answer.tool_calls)
    assert len({call.id for call in answer.tool_calls}) == len(expected.calls)
    # The text, then the calls, then one usage, then one finish. That text is forwarded piece
    # by piece as it arrives is shown with a paced upstream (the cancelling caller below).
    text = ["text_delta"] if expected.text else []
    assert answer.shape == text + ["tool_call"] * len(expected.calls) + ["usage", "finish"]
    if scenario == "text":
        # The whole answer arrived at once: later pieces may be joined, never into the first.
        assert answer.texts[0] == "Hello"
    usage = answer.usages[0]
    assert (usage.input_tokens, usage.output_tokens) == (12, expected.output_tokens)
    assert usage.cached_input_tokens == CACHED_TOKENS[provider]
    finish = answer.finishes[0]
    assert (finish.reason, finish.raw_reason) == (expected.reason, raw_reason(provider, expected))
    assert finish.model == ANSWERING_MODELS[provider]
    assert finish.provider_request_id == REQUEST_IDS[provider]
    timing = finish.timing
    assert timing is not None and timing.total is not None
    assert timing.time_to_first_token is not None and timing.gateway_overhead is not None
    assert timing.time_to_first_token <= timing.total
    assert timing.gateway_overhead <= timing.total


@pytest.mark.parametrize("provider", CHAT_PROVIDERS)
async def test_the_credentials_default_model_is_used_when_the_request_names_none(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    from tests.llm.upstreams import DEFAULT_MODELS

    upstream = all_upstreams[provider]
    upstream.replay.play("text.sse")
    answer = await chat(llm, service, request_for(upstream))
    assert answer.code() == grpc.StatusCode.OK
    sent = upstream.replay.requests[-1]
    assert model_sent(provider, sent) == DEFAULT_MODELS[provider]
    if provider == "azure-openai":
        assert sent.path == f"/openai/deployments/{DEFAULT_MODELS[provider]}/chat/completions"

    upstream.replay.play("text.sse")
    named = NAMED_MODELS.get(provider, "named-model")
    await chat(llm, service, request_for(upstream, model=named))
    assert model_sent(provider, upstream.replay.requests[-1]) == named


@pytest.mark.parametrize(
    ("provider", "scenario"), cases(["error_mid_stream", "error_event", "missing_done"])
)
async def test_a_broken_stream_ends_with_an_error_after_what_arrived(
    provider: str,
    scenario: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play(scenario + ".sse")
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    expected_reason = "STREAM_TRUNCATED" if scenario == "missing_done" else "PROVIDER_STREAM_ERROR"
    assert answer.reason() == expected_reason
    assert answer.metadata()["provider"] == provider
    assert answer.text.startswith("Hello!")
    assert not answer.finishes
    assert len(upstream.replay.requests) == 1, "nothing is retried once output has started"


@pytest.mark.parametrize("provider", CHAT_PROVIDERS)
async def test_a_connection_reset_mid_stream_ends_with_unavailable(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play(Reply("text.sse", reset_after_events=5))
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.reason() == "UPSTREAM_UNAVAILABLE"
    assert answer.metadata()["provider"] == provider
    assert "transport_failure" in answer.metadata()
    assert not answer.finishes
    assert len(upstream.replay.requests) == 1


async def test_a_refused_connection_is_retried_then_unavailable(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    credential_id = await store_credential(
        service, "openai", f"http://127.0.0.1:{closed_port}/v1", all_upstreams["openai"].key
    )
    answer = await chat(
        llm, service, ChatRequest(credential_id=credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.metadata()["attempts"] == "3"
    assert answer.error is not None
    assert answer.error.details() == (
        f"could not connect to openai at 127.0.0.1:{closed_port}: connection refused"
    )
    metadata = answer.metadata()
    assert metadata["transport_failure"] == "connection_refused"
    assert (metadata["host"], metadata["port"]) == ("127.0.0.1", str(closed_port))


@pytest.mark.parametrize("provider", CHAT_PROVIDERS)
async def test_a_rejected_key_fails_the_precondition_and_is_recorded(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("unauthorized.http")
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert answer.reason() == "CREDENTIAL_REJECTED"
    assert answer.metadata()["provider"] == provider
    assert answer.error is not None
    details = answer.error.details() or ""
    assert upstream.key == "" or upstream.key not in details
    assert len(upstream.replay.requests) == 1, "a rejected key is not retried"
    stored = await CredentialServiceStub(service.channel).get_credential(
        GetCredentialRequest(id=upstream.credential_id), metadata=service.auth()
    )
    assert stored.credential is not None and stored.credential.last_check is not None
    assert stored.credential.last_check.outcome == CheckOutcome.INVALID


@pytest.mark.parametrize(
    ("provider", "scenario", "code"),
    [
        (provider, scenario, code)
        for provider in CHAT_PROVIDERS
        for scenario, code in (
            ("model_not_found", grpc.StatusCode.NOT_FOUND),
            ("bad_request", grpc.StatusCode.INVALID_ARGUMENT),
        )
    ],
)
async def test_a_refused_request_arrives_as_a_clean_status(
    provider: str,
    scenario: str,
    code: grpc.StatusCode,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play(scenario + ".http")
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == code
    assert answer.chunks == []
    assert answer.metadata()["provider"] == provider
    assert answer.error is not None and provider in (answer.error.details() or "")
    assert len(upstream.replay.requests) == 1
    if code == grpc.StatusCode.NOT_FOUND:
        model = DEFAULT_MODELS[provider]  # the request names none: the credential's is used
        assert (answer.error.details() or "").startswith(
            f'model "{model}" not found at {provider} (HTTP 404)'
        )
        assert answer.reason() == "MODEL_NOT_FOUND"
        assert answer.metadata()["model"] == model


@pytest.mark.parametrize("provider", [name for name in CHAT_PROVIDERS if name not in NO_RETRY_HINT])
async def test_a_rate_limit_beyond_the_retry_cap_is_returned_with_its_delay(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("rate_limited.http")
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert answer.retry_delay_seconds() == 20
    assert len(upstream.replay.requests) == 1


@pytest.mark.parametrize("provider", NO_RETRY_HINT)
async def test_a_rate_limit_without_a_delay_is_retried_then_returned_with_one(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("rate_limited.http")
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert answer.metadata()["attempts"] == "3"
    assert (answer.retry_delay_seconds() or 0) > 0
    assert len(upstream.replay.requests) == 3


@pytest.mark.parametrize(
    ("provider", "first"),
    [
        (provider, first)
        for provider in CHAT_PROVIDERS
        for first in ("rate_limited_briefly", "server_error")
    ],
)
async def test_a_failure_before_the_first_chunk_is_retried(
    provider: str,
    first: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play(first + ".http", "text.sse")
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == grpc.StatusCode.OK
    assert answer.text == GREETING
    assert len(upstream.replay.requests) == 2


@pytest.mark.parametrize("provider", CHAT_PROVIDERS)
async def test_an_upstream_that_keeps_failing_ends_unavailable_after_bounded_retries(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play("server_error.http")
    answer = await chat(llm, service, request_for(upstream))

    assert answer.code() == grpc.StatusCode.UNAVAILABLE
    assert answer.metadata()["attempts"] == "3"
    assert len(upstream.replay.requests) == 3


@pytest.mark.parametrize("provider", CHAT_PROVIDERS)
async def test_a_slow_first_byte_past_the_deadline_ends_the_upstream_call(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play(Reply("text.sse", first_byte_delay=5.0))
    answer = await chat(llm, service, request_for(upstream), deadline_seconds=0.3)

    assert answer.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    async with asyncio.timeout(1.0):
        await upstream.replay.went_away.wait()


@pytest.mark.parametrize("provider", CHAT_PROVIDERS)
async def test_a_caller_that_cancels_closes_the_upstream_response(
    provider: str,
    llm: LlmServiceStub,
    service: RunningService,
    all_upstreams: dict[str, Upstream],
) -> None:
    upstream = all_upstreams[provider]
    upstream.replay.play(Reply("text.sse", event_delay=0.1))
    call = llm.chat(request_for(upstream), metadata=service.auth(), timeout=10)
    received = Answer()
    async for chunk in call:
        received.chunks.append(chunk)
        if len(received.texts) == 2:
            break
    call.cancel()

    async with asyncio.timeout(1.0):
        await upstream.replay.went_away.wait()
    assert upstream.replay.streams_completed == 0
    assert received.texts == ["Hello", "!"]


async def test_an_unfinished_answer_is_never_reported_complete(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    upstream.replay.play(Reply("text.sse", event_delay=0.05))
    answer = await collect(llm.chat(request_for(upstream), metadata=service.auth(), timeout=0.2))
    assert answer.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert answer.texts and not answer.finishes
