"""Every chat call through the real service leaves exactly one usage record: its tokens as the
provider reported them (cached, cache-write and reasoning ones apart), its model after the
credential's default, its outcome as the metrics name it, also when it fails or the caller
leaves mid-stream; a call refused by a budget leaves none and never reaches the provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1 import ChatRequest
from integration_api_proto.integration.v1.grpc_aio import LlmServiceStub

from integration_api.principal import Tenant
from integration_api.usage.record import CHAT
from tests.fakes.replay import Reply
from tests.llm.support import Answer, chat, user_says
from tests.llm.upstreams import DEFAULT_MODELS, Upstream, upstreams
from tests.support.service import RunningService
from tests.support.usage import DEFAULT_TENANT, CapturingLedger, RefusingBudgets
from tests.usage.records_support import (
    Window,
    budgets,
    fresh_usage,
    ledger,
    no_record,
    one_record,
    refused_by_budget,
    secrets_absent,
    service,
)

__all__ = ["budgets", "fresh_usage", "ledger", "service"]


@pytest.fixture(scope="module")
async def chat_upstreams(service: RunningService) -> AsyncIterator[dict[str, Upstream]]:
    async with upstreams(service) as found:
        yield found


@pytest.fixture
def llm(service: RunningService) -> LlmServiceStub:
    return LlmServiceStub(service.channel)


def request_for(upstream: Upstream) -> ChatRequest:
    # No model named: the record carries the credential's default.
    return ChatRequest(credential_id=upstream.credential_id, messages=user_says())


async def chat_answered(
    llm: LlmServiceStub, service: RunningService, upstream: Upstream, reply: str | Reply
) -> Answer:
    """One chat through `upstream`, whose provider answers with `reply`."""
    upstream.reset()
    upstream.replay.play(reply)
    return await chat(llm, service, request_for(upstream))


async def test_a_chat_records_its_tokens_model_request_id_and_time(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["openai"]
    window = Window()
    answer = await chat_answered(llm, service, upstream, "text.sse")
    window.close()
    assert answer.error is None
    record = await one_record(ledger)

    (finish,) = answer.finishes
    assert record.tenant == DEFAULT_TENANT
    assert (record.operation, record.provider, record.outcome) == (CHAT, "openai", "ok")
    assert record.credential_id == upstream.credential_id
    assert record.model == DEFAULT_MODELS["openai"]
    assert record.route is None
    # OpenAI reports cached and reasoning tokens inside its counts.
    assert (record.input_tokens, record.cached_input_tokens, record.output_tokens) == (12, 4, 9)
    assert (record.reasoning_tokens, record.cache_write_input_tokens) == (0, None)
    assert record.provider_request_id == finish.provider_request_id != ""
    assert window.holds(record)
    assert (record.audio_seconds_in, record.characters, record.search_units) == (None,) * 3
    secrets_absent(ledger.records, upstream.key)


async def test_prompt_cache_reads_and_writes_are_recorded_apart(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["anthropic"]
    answer = await chat_answered(llm, service, upstream, "prompt_cache.sse")
    assert answer.error is None
    record = await one_record(ledger)

    # Anthropic reports the three kinds of input apart; the record counts every input token.
    assert record.input_tokens == 21 + 1800 + 2400
    assert (record.cached_input_tokens, record.cache_write_input_tokens) == (2400, 1800)
    assert record.output_tokens == 7
    assert record.model == DEFAULT_MODELS["anthropic"]
    secrets_absent(ledger.records, upstream.key)


async def test_reasoning_tokens_are_recorded(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["gemini"]
    answer = await chat_answered(llm, service, upstream, "thinking.sse")
    assert answer.error is None
    record = await one_record(ledger)

    (usage,) = answer.usages
    assert record.reasoning_tokens == usage.reasoning_tokens == 45
    assert (record.input_tokens, record.output_tokens) == (usage.input_tokens, usage.output_tokens)
    assert record.provider_request_id == "AdVRaMmDCYekqtsPrb_-iAw"


async def test_a_failed_call_is_recorded_once_after_its_retries(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["openai"]
    answer = await chat_answered(llm, service, upstream, "server_error.http")
    assert answer.error is not None
    record = await one_record(ledger)

    assert len(upstream.replay.fake.requests) > 1, "a 5xx is retried within the one call"
    assert record.outcome == answer.error.code().name.lower() == "unavailable"
    assert record.input_tokens is None and record.output_tokens is None
    secrets_absent(ledger.records, upstream.key)


async def test_a_stream_broken_before_its_end_is_recorded_with_what_reached_the_caller(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["openai"]
    # Every event but the end marker ([DONE]), the usage included, then a reset connection.
    answer = await chat_answered(llm, service, upstream, Reply("text.sse", reset_after_events=12))
    record = await one_record(ledger)

    assert answer.error is not None and not answer.finishes
    assert record.outcome == answer.error.code().name.lower() != "ok"
    # OpenAI's adapter hands its usage over with the end marker: never reported here.
    assert answer.usages == []
    assert (record.input_tokens, record.output_tokens) == (None, None)
    assert record.provider_request_id == ""


async def test_a_caller_leaving_mid_stream_is_recorded_once_as_cancelled(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["openai"]
    upstream.reset()
    upstream.replay.play(Reply("text.sse", event_delay=0.1))
    call = llm.chat(request_for(upstream), metadata=service.auth(), timeout=10)
    received = Answer()
    async for chunk in call:
        received.chunks.append(chunk)
        if received.texts:
            break
    call.cancel()
    async with asyncio.timeout(2.0):
        await upstream.replay.went_away.wait()
    record = await one_record(ledger)

    assert record.outcome == "cancelled"
    assert record.model == DEFAULT_MODELS["openai"]
    assert record.output_tokens is None  # the usage comes last: never reported


async def test_a_call_refused_by_its_credential_budget_is_not_usage(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    budgets: RefusingBudgets,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["openai"]
    upstream.reset()
    budgets.spent_credentials.add(upstream.credential_id)
    answer = await chat(llm, service, request_for(upstream))

    refused_by_budget(answer.error)
    assert upstream.replay.fake.requests == []
    assert budgets.asked == [(DEFAULT_TENANT, upstream.credential_id)]
    await no_record(ledger)


async def test_a_tenant_whose_budget_is_spent_is_refused_and_others_are_not(
    llm: LlmServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    budgets: RefusingBudgets,
    chat_upstreams: dict[str, Upstream],
) -> None:
    upstream = chat_upstreams["openai"]
    budgets.spent_tenants.add(Tenant("org-other", "project-other"))
    answer = await chat_answered(llm, service, upstream, "text.sse")

    assert answer.error is None
    assert len(await ledger.settled(1)) == 1
