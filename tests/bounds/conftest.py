"""A service with tight upstream bounds, a hostile upstream and a well-behaved one.

The bounds are small so that each test reaches one within a fraction of a second; the hostile
upstream sends far more than any of them allows.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from integration_api_proto.integration.v1.grpc_aio import EmbeddingServiceStub, LlmServiceStub

from integration_api.config import GrpcLimits
from integration_api.providers.http_client import HttpClientSettings, create_http_client
from integration_api.upstream.limits import UpstreamLimits
from tests.fakes.hostile import HostileUpstream
from tests.fakes.replay import ReplayServer
from tests.llm.upstreams import store_credential
from tests.support.service import RunningService, running_service

LIMITS = UpstreamLimits(
    max_body_bytes=4 * 1024 * 1024,
    max_sse_line_bytes=64 * 1024,
    max_sse_event_bytes=256 * 1024,
    max_tool_calls=8,
    max_tool_arguments_bytes=64 * 1024,
    max_answer_seconds=2.0,
    max_event_gap_seconds=0.5,
    max_connections=64,
    max_connections_per_host=4,
    max_calls_per_tenant=3,
    max_embed_inputs=100,
    max_embed_characters=10_000,
)
MAX_MESSAGE_BYTES = 1024 * 1024
POOL_TIMEOUT_SECONDS = 0.3


@pytest.fixture(scope="package")
async def service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    grpc_limits = GrpcLimits(max_message_bytes=MAX_MESSAGE_BYTES)
    async with running_service(package_database_dsn, upstream=LIMITS, grpc=grpc_limits) as running:
        runtime = running.app.runtime
        assert runtime is not None
        # A short wait for a pooled connection, so that a full pool shows within the test.
        previous = runtime.http
        runtime.http = create_http_client(
            HttpClientSettings(pool_timeout_seconds=POOL_TIMEOUT_SECONDS, limits=LIMITS),
            policy=runtime.egress,
        )
        await previous.aclose()
        yield running


@dataclass
class Upstreams:
    """The hostile upstream and a well-behaved one, each with a credential per tenant."""

    hostile: HostileUpstream
    replay: ReplayServer
    service: RunningService
    _credentials: dict[tuple[str, str], str]

    async def credential(self, upstream: str, organization: str) -> str:
        """The credential of `organization` for `upstream` ("hostile" or "replay")."""
        key = (upstream, organization)
        if key not in self._credentials:
            base_url = self.hostile.base_url if upstream == "hostile" else self.replay.base_url
            self._credentials[key] = await store_credential(
                self.service, "openai-compatible", base_url, "", organization_id=organization
            )
        return self._credentials[key]


@pytest.fixture(scope="package")
async def package_upstreams(service: RunningService) -> AsyncIterator[Upstreams]:
    async with HostileUpstream() as hostile, ReplayServer("openai-compatible") as replay:
        yield Upstreams(hostile, replay, service, {})


@pytest.fixture
def upstreams(package_upstreams: Upstreams) -> Upstreams:
    package_upstreams.replay.fake.requests.clear()
    package_upstreams.replay.play("embeddings")
    package_upstreams.hostile.fake.requests.clear()
    return package_upstreams


@pytest.fixture
def llm(service: RunningService) -> LlmServiceStub:
    return LlmServiceStub(service.channel)


@pytest.fixture
def embeddings(service: RunningService) -> EmbeddingServiceStub:
    return EmbeddingServiceStub(service.channel)


def organization() -> str:
    """A tenant of its own, so that no other test's calls count against its limit."""
    return f"org-{secrets.token_hex(4)}"
