"""The ledger from end to end, on the real service with its own ledger, price book and budgets: a
chat, an embedding, a transcription and a synthesis each appear in GetUsage with their tokens or
seconds and their cost at the price in force; a hard budget those calls spent refuses the next
call, and the refused call leaves no record."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import grpc
import pytest
from integration_api_proto.integration.v1 import (
    Budget,
    BudgetUnit,
    ChatRequest,
    DeleteBudgetRequest,
    EmbedRequest,
    GetUsageRequest,
    GetUsageResponse,
    SetBudgetRequest,
    SynthesizeRequest,
    UsageFilter,
    UsageGroup,
    UsageGrouping,
)
from integration_api_proto.integration.v1.grpc_aio import (
    EmbeddingServiceStub,
    LlmServiceStub,
    OperationsServiceStub,
    SpeechServiceStub,
)

from integration_api.store.database import ConnectionPool
from tests.credentials.helpers import error_info
from tests.llm.support import chat, user_says
from tests.llm.upstreams import DEFAULT_MODELS, EMBEDDING_MODELS, Upstream, upstreams
from tests.speech.conftest import KEYS, SpeechUpstream, exchange, register, replay_servers
from tests.speech.test_conformance import audio_stream, synthesis_config
from tests.support.databases import fresh_database
from tests.support.service import (
    DEFAULT_ORGANIZATION,
    DEFAULT_PROJECT,
    RunningService,
    running_service,
)

Metadata = tuple[tuple[str, str], ...]

# Prices in US dollars: per million input and output tokens, per audio minute in and out, per
# million characters.
CHAT_PRICE = (Decimal("1.5"), Decimal("6"))
EMBED_PRICE = Decimal("0.02")
AUDIO_IN_PER_MINUTE = Decimal("0.6")
AUDIO_OUT_PER_MINUTE = Decimal("1.2")
CHARACTERS_PER_MILLION = Decimal("30")
TEXT = "Hello there, how are you today?"


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[RunningService]:
    async with fresh_database() as dsn, running_service(dsn) as running:
        yield running


@pytest.fixture(scope="module")
async def chat_upstreams(service: RunningService) -> AsyncIterator[dict[str, Upstream]]:
    async with upstreams(service) as found:
        yield found


@pytest.fixture(scope="module")
async def speech_upstreams(service: RunningService) -> AsyncIterator[dict[str, SpeechUpstream]]:
    async with replay_servers() as servers:
        yield await register(service, servers, KEYS)


async def lay_down_price(
    pool: ConnectionPool, provider: str, model: str, **amounts: Decimal
) -> None:
    """The next version of a provider's model's price, in force from now (an operator's
    SetPrice may not start before a second from now; a test may)."""
    columns = ", ".join(f"usd_per_{unit}" for unit in amounts)
    values = ", ".join(f"${index}" for index in range(3, 3 + len(amounts)))
    await pool.execute(
        f"""INSERT INTO usage_prices (provider, model, version, effective_from, {columns},
                                      source, set_by, note)
            VALUES ($1, $2,
                    (SELECT coalesce(max(version), 0) + 1 FROM usage_prices
                      WHERE provider = $1 AND model = $2),
                    now(), {values}, 'operator', 'test', 'test price')""",
        provider,
        model,
        *amounts.values(),
    )


@pytest.fixture(scope="module")
async def priced(service: RunningService) -> None:
    """Prices for the models the calls use (after the shipped defaults), then loaded."""
    runtime = service.app.runtime
    await runtime.prices.wait_loaded()
    pool = runtime.database.pool
    await lay_down_price(
        pool,
        "openai",
        DEFAULT_MODELS["openai"],
        million_input_tokens=CHAT_PRICE[0],
        million_output_tokens=CHAT_PRICE[1],
    )
    await lay_down_price(
        pool, "openai", EMBEDDING_MODELS["openai"], million_input_tokens=EMBED_PRICE
    )
    await lay_down_price(
        pool,
        "deepgram",
        "*",
        audio_minute_in=AUDIO_IN_PER_MINUTE,
        audio_minute_out=AUDIO_OUT_PER_MINUTE,
        million_characters=CHARACTERS_PER_MILLION,
    )
    await runtime.prices.reload()


async def usage_by_operation(
    service: RunningService, since: datetime, calls: int
) -> dict[str, UsageGroup]:
    """GetUsage grouped by operation, once the ledger has written `calls` calls."""
    operations = OperationsServiceStub(service.channel)
    request = GetUsageRequest(
        filter=UsageFilter(start_time=since, end_time=datetime.now(UTC) + timedelta(minutes=1)),
        group_by=[UsageGrouping.OPERATION],
    )
    response = GetUsageResponse()
    async with asyncio.timeout(10):
        while response.total is None or response.total.calls < calls:
            await asyncio.sleep(0.1)
            response = await operations.get_usage(request, metadata=service.auth(), timeout=10)
    return {group.operation: group for group in response.groups}


def micros(amount: Decimal) -> int:
    """Micro-dollars rounded once, half away from zero, as GetUsage reports them."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def test_four_kinds_of_call_appear_in_get_usage_with_their_cost_and_a_spent_budget_refuses(
    service: RunningService,
    chat_upstreams: dict[str, Upstream],
    speech_upstreams: dict[str, SpeechUpstream],
    priced: None,
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    openai = chat_upstreams["openai"]
    deepgram = speech_upstreams["deepgram"]
    openai.reset()
    openai.replay.play("text.sse")
    llm = LlmServiceStub(service.channel)
    request = ChatRequest(credential_id=openai.credential_id, messages=user_says())
    answer = await chat(llm, service, request)
    assert answer.error is None
    (usage,) = [chunk.usage for chunk in answer.chunks if chunk.usage is not None]
    openai.reset()
    embedded = await EmbeddingServiceStub(service.channel).embed(
        EmbedRequest(
            credential_id=openai.credential_id,
            model=EMBEDDING_MODELS["openai"],
            inputs=["the cat", "sat on the mat"],
        ),
        metadata=service.auth(),
        timeout=10,
    )
    speech = SpeechServiceStub(service.channel)
    transcribed = await exchange(speech.transcribe(metadata=service.auth()), audio_stream(deepgram))
    synthesized = [
        response
        async for response in speech.synthesize(
            SynthesizeRequest(config=synthesis_config(deepgram), text=TEXT),
            metadata=service.auth(),
            timeout=10,
        )
    ]

    groups = await usage_by_operation(service, since, calls=4)

    assert set(groups) == {"chat", "embed", "transcribe", "synthesize"}
    chat_totals = groups["chat"].totals
    assert chat_totals is not None and usage is not None
    assert (chat_totals.calls, chat_totals.input_tokens, chat_totals.output_tokens) == (
        1,
        usage.input_tokens,
        usage.output_tokens,
    )
    assert chat_totals.cost_micros == micros(
        (usage.input_tokens or 0) * CHAT_PRICE[0] + (usage.output_tokens or 0) * CHAT_PRICE[1]
    )
    embed_totals = groups["embed"].totals
    assert embed_totals is not None and embedded.usage is not None
    assert embed_totals.input_tokens == embedded.usage.input_tokens
    assert embed_totals.cost_micros == micros((embedded.usage.input_tokens or 0) * EMBED_PRICE)
    heard = groups["transcribe"].totals
    metadata = transcribed[-1].metadata
    assert heard is not None and metadata is not None and metadata.audio_duration is not None
    seconds = Decimal(str(metadata.audio_duration.total_seconds()))
    assert heard.audio_seconds_in == pytest.approx(float(seconds))
    assert heard.cost_micros == micros(seconds * AUDIO_IN_PER_MINUTE * 1_000_000 / 60)
    spoken = groups["synthesize"].totals
    done = synthesized[-1].done
    assert spoken is not None and done is not None
    assert spoken.characters == done.characters == len(TEXT)
    # LINEAR16 at the configured rate: two bytes a sample.
    rate = synthesis_config(deepgram).audio.sample_rate_hz
    audio_out = Decimal(done.audio_bytes) / 2 / rate
    assert spoken.audio_seconds_out == pytest.approx(float(audio_out))
    assert spoken.cost_micros == micros(
        len(TEXT) * CHARACTERS_PER_MILLION + audio_out * AUDIO_OUT_PER_MINUTE * 1_000_000 / 60
    )
    assert sum(group.totals.unpriced_calls for group in groups.values() if group.totals) == 0

    # A hard budget below what was spent: the next call is refused, and leaves no record.
    operations = OperationsServiceStub(service.channel)
    budget = await operations.set_budget(
        SetBudgetRequest(
            budget=Budget(
                organization_id=DEFAULT_ORGANIZATION,
                project_id=DEFAULT_PROJECT,
                unit=BudgetUnit.MICRO_USD,
                hard_limit=1,
            )
        ),
        metadata=service.operator_auth(),
    )
    try:
        openai.reset()
        openai.replay.play("text.sse")
        refused = await chat(llm, service, request)
        assert refused.error is not None
        assert refused.error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(refused.error).reason == "BUDGET_EXCEEDED"
        other = await chat(llm, service, request, organization_id="org-" + secrets.token_hex(3))
        assert other.error is not None  # another tenant: its own credential is not found...
        assert other.error.code() == grpc.StatusCode.NOT_FOUND  # ...not refused by a budget
        await asyncio.sleep(0.5)  # a flush or two
        after = await usage_by_operation(service, since, calls=4)
        assert after["chat"].totals is not None and after["chat"].totals.calls == 1
    finally:
        await operations.delete_budget(
            DeleteBudgetRequest(budget_id=budget.budget.id), metadata=service.operator_auth()
        )
