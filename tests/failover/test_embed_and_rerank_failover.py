"""Embed and Rerank through a route: the whole answer comes from the first target able to."""

from __future__ import annotations

import grpc
from integration_api_proto.integration.v1 import EmbedRequest, RerankRequest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.failover.flaky_provider import FlakyProvider
from tests.failover.support import Target, create_route
from tests.llm.upstreams import store_credential
from tests.support.service import RunningService


async def test_embed_moves_on_from_a_5xx_and_reports_it(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("server_error")
    stub = EmbeddingServiceStub(service.channel)
    reply = await stub.embed(
        EmbedRequest(route_id=route, inputs=["one", "two"]), metadata=service.auth(), timeout=10
    )
    marker = float(sum(map(ord, second.name)))
    assert [embedding.values[0] for embedding in reply.embeddings] == [marker, marker]
    assert reply.route is not None and reply.route.answered and reply.route.answered_by == 1
    assert [attempt.outcome.name for attempt in reply.route.attempts] == [
        "PROVIDER_ERROR",
        "ANSWERED",
    ]
    assert first.key not in repr(reply) and second.key not in repr(reply)


async def test_embed_through_a_route_that_cannot_answer_fails_with_the_last_error(
    service: RunningService, first: Target, second: Target
) -> None:
    route = await create_route(service, first.credential_id, second.credential_id)
    first.provider.behave("rate_limited")
    second.provider.behave("server_error")
    stub = EmbeddingServiceStub(service.channel)
    try:
        await stub.embed(
            EmbedRequest(route_id=route, inputs=["one"]), metadata=service.auth(), timeout=20
        )
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert first.key not in str(error.details()) and second.key not in str(error.details())
    else:
        raise AssertionError("the call succeeded")
    # Every target but the last is asked once; the last as a direct call would be, with retries.
    assert first.provider.embed_requests == 1
    assert second.provider.embed_requests == 3


async def test_rerank_moves_on_from_a_rate_limited_key(service: RunningService) -> None:
    async with FlakyProvider("alpha") as limited, FlakyProvider("bravo") as healthy:
        credentials = [
            await store_credential(
                service, "cohere", provider.root_url, "co-canary-000000", default_model="rr-1"
            )
            for provider in (limited, healthy)
        ]
        route = await create_route(service, *credentials)
        limited.behave("rate_limited")
        stub = EmbeddingServiceStub(service.channel)
        reply = await stub.rerank(
            RerankRequest(route_id=route, query="which", documents=["a", "b"]),
            metadata=service.auth(),
            timeout=10,
        )
    marker = sum(map(ord, "bravo")) / 1000
    assert reply.results[0].index == 0
    assert abs(reply.results[0].relevance_score - marker) < 1e-6
    assert reply.route is not None
    assert [(a.target_index, a.outcome.name) for a in reply.route.attempts] == [
        (0, "RATE_LIMITED"),
        (1, "ANSWERED"),
    ]
    assert reply.route.attempts[1].provider == "cohere"


async def test_a_target_whose_provider_cannot_rerank_is_skipped_without_a_call(
    service: RunningService, first: Target
) -> None:
    async with FlakyProvider("charlie") as reranker:
        cohere = await store_credential(
            service, "cohere", reranker.root_url, "co-canary-000001", default_model="rr-1"
        )
        # The first target is an OpenAI key: OpenAI has no rerank API.
        route = await create_route(service, first.credential_id, cohere)
        stub = EmbeddingServiceStub(service.channel)
        reply = await stub.rerank(
            RerankRequest(route_id=route, query="which", documents=["a"]),
            metadata=service.auth(),
            timeout=10,
        )
    assert reply.route is not None
    skipped, answered = reply.route.attempts
    assert (skipped.outcome.name, skipped.reason) == (
        "SKIPPED_UNAVAILABLE",
        "CAPABILITY_NOT_SUPPORTED",
    )
    assert (answered.target_index, answered.outcome.name) == (1, "ANSWERED")
