from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from tests.fakes import provider_apis
from tests.fakes.server import FakeServer
from tests.support.service import RunningService, running_service


def new_openai_key() -> str:
    return "sk-proj-" + secrets.token_urlsafe(24)


@pytest.fixture
async def openai_fake() -> AsyncIterator[tuple[FakeServer, set[str]]]:
    """A fake OpenAI accepting the keys in the returned set (tests add keys to it)."""
    accepted: set[str] = set()
    async with FakeServer() as server:
        provider_apis.OPENAI.install(server, accepted)
        yield server, accepted


@pytest.fixture
async def service(empty_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(empty_database_dsn) as running:
        yield running


@pytest.fixture
def credentials(service: RunningService) -> CredentialServiceStub:
    return CredentialServiceStub(service.channel)
