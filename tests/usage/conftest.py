"""A service on a database of this package's own, and a raw connection to lay down records."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from tests.support.service import RunningService, running_service
from tests.usage.support import Ledger


@pytest.fixture(scope="package")
async def usage_service(package_database_dsn: str) -> AsyncIterator[RunningService]:
    async with running_service(package_database_dsn) as running:
        yield running


@pytest.fixture(scope="package")
async def ledger(usage_service: RunningService) -> AsyncIterator[Ledger]:
    connection = await asyncpg.connect(usage_service.app.runtime.database.dsn)
    try:
        yield Ledger(usage_service, OperationsServiceStub(usage_service.channel), connection)
    finally:
        await connection.close()
