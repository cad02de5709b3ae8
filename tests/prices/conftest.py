from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from tests.support.service import RunningService, running_service


@pytest.fixture(scope="package")
async def prices_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        await running.app.runtime.prices.wait_loaded()
        yield running


@pytest.fixture(scope="package")
def operations(prices_service: RunningService) -> OperationsServiceStub:
    return OperationsServiceStub(prices_service.channel)
