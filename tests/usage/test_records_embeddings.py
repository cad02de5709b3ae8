"""Embed and Rerank through the real service each leave one usage record: the input tokens the
provider counted, the search units a Cohere-shaped rerank billed, the model used; a failure is
recorded once, a budget refusal not at all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

import grpc
import pytest
from integration_api_proto.integration.v1 import EmbedRequest, RerankRequest, RerankResponse
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from integration_api.usage.record import EMBED, RERANK
from tests.fakes.replay_rerank import tokens_of
from tests.llm.upstreams import EMBEDDING_MODELS, RERANK_MODELS, Upstream, upstreams
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

TEXTS = ["the cat sat", "on the mat today"]
QUERY = "capital of France"
DOCUMENTS = ["Paris is the capital of France.", "Berlin is the capital of Germany."]


@pytest.fixture(scope="module")
async def replays(service: RunningService) -> AsyncIterator[dict[str, Upstream]]:
    async with upstreams(service) as found:
        yield found


@pytest.fixture
def embeddings(service: RunningService) -> EmbeddingServiceStub:
    return EmbeddingServiceStub(service.channel)


def rerank(
    embeddings: EmbeddingServiceStub, service: RunningService, upstream: Upstream, model: str = ""
) -> Awaitable[RerankResponse]:
    """The rerank of DOCUMENTS for QUERY through `upstream` (`model` "": its default)."""
    return embeddings.rerank(
        RerankRequest(
            credential_id=upstream.credential_id, model=model, query=QUERY, documents=DOCUMENTS
        ),
        metadata=service.auth(),
        timeout=10,
    )


async def test_an_embedding_records_its_input_tokens_and_model(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    replays: dict[str, Upstream],
) -> None:
    upstream = replays["openai"]
    upstream.reset()
    model = EMBEDDING_MODELS["openai"]
    window = Window()
    response = await embeddings.embed(
        EmbedRequest(credential_id=upstream.credential_id, model=model, inputs=TEXTS),
        metadata=service.auth(),
        timeout=10,
    )
    window.close()
    record = await one_record(ledger)

    assert response.usage is not None
    assert record.input_tokens == response.usage.input_tokens == 7
    assert (record.tenant, record.operation, record.outcome) == (DEFAULT_TENANT, EMBED, "ok")
    assert (record.provider, record.credential_id, record.model) == (
        "openai",
        upstream.credential_id,
        model,
    )
    assert record.output_tokens is None and record.search_units is None
    assert window.holds(record)
    secrets_absent(ledger.records, upstream.key)


async def test_a_cohere_rerank_records_the_search_units_it_billed(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    replays: dict[str, Upstream],
) -> None:
    upstream = replays["cohere"]
    upstream.reset()
    await rerank(embeddings, service, upstream, RERANK_MODELS["cohere"])
    record = await one_record(ledger)

    assert (record.operation, record.provider, record.outcome) == (RERANK, "cohere", "ok")
    assert record.search_units == 1
    assert record.model == RERANK_MODELS["cohere"]
    secrets_absent(ledger.records, upstream.key)


async def test_a_token_counted_rerank_records_its_tokens(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    replays: dict[str, Upstream],
) -> None:
    upstream = replays["voyageai"]
    upstream.reset()
    await rerank(embeddings, service, upstream, RERANK_MODELS["voyageai"])
    record = await one_record(ledger)

    assert record.input_tokens == tokens_of(QUERY, DOCUMENTS)
    assert record.search_units is None


async def test_a_failed_rerank_is_recorded_once_with_its_status(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    replays: dict[str, Upstream],
) -> None:
    upstream = replays["voyageai"]
    upstream.reset()
    upstream.replay.play("server_error.http")
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await rerank(embeddings, service, upstream, RERANK_MODELS["voyageai"])
    record = await one_record(ledger)

    assert record.outcome == failure.value.code().name.lower() == "unavailable"
    assert record.input_tokens is None and record.search_units is None


async def test_an_embedding_refused_by_a_budget_reaches_no_provider_and_is_not_usage(
    embeddings: EmbeddingServiceStub,
    service: RunningService,
    ledger: CapturingLedger,
    budgets: RefusingBudgets,
    replays: dict[str, Upstream],
) -> None:
    upstream = replays["openai"]
    upstream.reset()
    budgets.spent_tenants.add(DEFAULT_TENANT)
    for call in (
        embeddings.embed(
            EmbedRequest(
                credential_id=upstream.credential_id,
                model=EMBEDDING_MODELS["openai"],
                inputs=TEXTS,
            ),
            metadata=service.auth(),
            timeout=10,
        ),
        rerank(embeddings, service, replays["cohere"]),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refusal:
            await call
        refused_by_budget(refusal.value)

    assert upstream.replay.fake.requests == []
    await no_record(ledger)
