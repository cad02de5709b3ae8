"""One running service and one replay server per provider, shared by the embedding tests."""

from __future__ import annotations

import pytest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub

from tests.llm.upstreams import Upstream
from tests.support.provider_fixtures import all_upstreams, service
from tests.support.service import RunningService


@pytest.fixture
def embeddings(service: RunningService) -> EmbeddingServiceStub:
    return EmbeddingServiceStub(service.channel)


@pytest.fixture
def upstream_for(all_upstreams: dict[str, Upstream]) -> dict[str, Upstream]:
    """The upstreams, each with its traffic and script reset for this test."""
    for upstream in all_upstreams.values():
        upstream.reset()
    return all_upstreams


__all__ = ["all_upstreams", "service"]
