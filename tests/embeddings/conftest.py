"""One running service and one replay server per provider, shared by the embedding tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.llm.upstreams import Upstream, upstreams
from tests.support.service import RunningService, running_service


@pytest.fixture(scope="package")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


@pytest.fixture(scope="package")
async def all_upstreams(service: RunningService) -> AsyncIterator[dict[str, Upstream]]:
    async with upstreams(service) as found:
        yield found


@pytest.fixture
def embeddings(service: RunningService) -> EmbeddingServiceStub:
    return EmbeddingServiceStub(service.channel)


@pytest.fixture
def upstream_for(all_upstreams: dict[str, Upstream]) -> dict[str, Upstream]:
    """The upstreams, each with its traffic and script reset for this test."""
    for upstream in all_upstreams.values():
        upstream.reset()
    return all_upstreams
