"""Metrics per provider and model, and logs that carry the provider's request id."""

from __future__ import annotations

import grpc
import structlog
from integration_api_proto.integration.v1 import ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub
from prometheus_client import REGISTRY

from tests.llm.support import chat, user_says
from tests.llm.upstreams import Upstream
from tests.support.service import RunningService


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_call_is_counted_timed_and_its_tokens_added_per_provider_and_model(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["openai"]
    model = {"provider": "openai", "model": "gpt-4o-mini"}
    chat_model = {**model, "operation": "chat"}
    before = {
        "ok": sample("integration_api_provider_requests_total", **chat_model, outcome="ok"),
        "input": sample("integration_api_provider_tokens_total", **chat_model, direction="input"),
        "output": sample("integration_api_provider_tokens_total", **chat_model, direction="output"),
        "ttft": sample("integration_api_chat_time_to_first_token_seconds_count", **model),
        "overhead": sample("integration_api_gateway_overhead_seconds_count", **chat_model),
        "duration": sample("integration_api_provider_call_duration_seconds_count", **chat_model),
    }
    upstream.replay.play("text.sse")
    answer = await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    )
    assert answer.code() == grpc.StatusCode.OK

    after = {
        "ok": sample("integration_api_provider_requests_total", **chat_model, outcome="ok"),
        "input": sample("integration_api_provider_tokens_total", **chat_model, direction="input"),
        "output": sample("integration_api_provider_tokens_total", **chat_model, direction="output"),
        "ttft": sample("integration_api_chat_time_to_first_token_seconds_count", **model),
        "overhead": sample("integration_api_gateway_overhead_seconds_count", **chat_model),
        "duration": sample("integration_api_provider_call_duration_seconds_count", **chat_model),
    }
    assert {name: after[name] - before[name] for name in after} == {
        "ok": 1,
        "input": 12,
        "output": 9,
        "ttft": 1,
        "overhead": 1,
        "duration": 1,
    }


async def test_a_failed_call_is_counted_under_its_status(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["mistral"]
    labels = {
        "provider": "mistral",
        "model": "mistral-small-latest",
        "operation": "chat",
        "outcome": "failed_precondition",
    }
    before = sample("integration_api_provider_requests_total", **labels)
    upstream.replay.play("unauthorized.http")
    await chat(
        llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
    )
    assert sample("integration_api_provider_requests_total", **labels) - before == 1


async def test_the_call_log_carries_the_providers_request_id(
    llm: LlmServiceStub, service: RunningService, all_upstreams: dict[str, Upstream]
) -> None:
    upstream = all_upstreams["azure-openai"]
    upstream.replay.play("text.sse")
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        await chat(
            llm, service, ChatRequest(credential_id=upstream.credential_id, messages=user_says())
        )
    (line,) = [entry for entry in logs if entry["event"] == "rpc"]
    assert line["provider"] == "azure-openai"
    assert line["provider_request_id"] == "5b1c3d2e-4f6a-4b8c-9d0e-1f2a3b4c5d6e"
