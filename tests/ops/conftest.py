from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1.grpc_aio import (
    CredentialServiceStub,
    OperationsServiceStub,
)

from tests.fakes import provider_apis
from tests.fakes.server import FakeServer
from tests.ops.support import Caller
from tests.support.service import RunningService, running_service


@pytest.fixture(scope="package")
async def openai_fake() -> AsyncIterator[tuple[FakeServer, set[str]]]:
    """A fake OpenAI accepting the keys in the returned set (tests add keys to it)."""
    accepted: set[str] = set()
    async with FakeServer() as server:
        provider_apis.OPENAI.install(server, accepted)
        yield server, accepted


@pytest.fixture(scope="package")
async def ops_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


@pytest.fixture(scope="package")
def operations(ops_service: RunningService) -> OperationsServiceStub:
    return OperationsServiceStub(ops_service.channel)


@pytest.fixture(scope="package")
def credentials(ops_service: RunningService) -> CredentialServiceStub:
    return CredentialServiceStub(ops_service.channel)


@pytest.fixture
def caller(
    ops_service: RunningService,
    operations: OperationsServiceStub,
    credentials: CredentialServiceStub,
    openai_fake: tuple[FakeServer, set[str]],
) -> Caller:
    server, accepted = openai_fake
    return Caller(ops_service, operations, credentials, server, accepted)
