from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1 import (
    CreateRouteRequest,
    Route,
    RoutePolicy,
    RouteTarget,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, RouteServiceStub

from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import openai_request
from tests.support.service import RunningService, running_service


@pytest.fixture
async def service(empty_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(empty_database_dsn) as running:
        yield running


@pytest.fixture
def routes(service: RunningService) -> RouteServiceStub:
    return RouteServiceStub(service.channel)


async def stored_credential(service: RunningService, name: str = "primary", **tenant: str) -> str:
    """A credential of the tenant (never called: these tests only name it in routes)."""
    request = openai_request(new_openai_key(), "http://127.0.0.1:9", name, skip_verification=True)
    stub = CredentialServiceStub(service.channel)
    created = await stub.create_credential(request, metadata=service.auth(**tenant))
    assert created.credential is not None
    return created.credential.id


async def create_route(
    service: RunningService,
    name: str,
    credential_ids: list[str],
    *,
    policy: RoutePolicy = RoutePolicy.FAILOVER,
    **tenant: str,
) -> Route:
    request = CreateRouteRequest(
        name=name,
        policy=policy,
        targets=[RouteTarget(credential_id=credential_id) for credential_id in credential_ids],
    )
    response = await RouteServiceStub(service.channel).create_route(
        request, metadata=service.auth(**tenant)
    )
    assert response.route is not None
    return response.route
