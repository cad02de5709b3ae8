"""Fixtures of the usage tests: a migrated database of their own, records of unique tenants,
a service on it and a raw connection to lay down records."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from integration_api_proto.integration.v1.grpc_aio import OperationsServiceStub

from integration_api.principal import Tenant
from integration_api.store.database import ConnectionPool, create_pool
from integration_api.store.migrate import apply_migrations
from integration_api.usage.record import CHAT, OK, UsageRecord
from tests.support.service import RunningService, running_service
from tests.usage.support import Ledger


@pytest.fixture(scope="package")
async def usage_pool(package_database_dsn: str) -> AsyncIterator[ConnectionPool]:
    pool = await create_pool(package_database_dsn, min_size=1, max_size=10)
    await apply_migrations(pool)
    yield pool
    await pool.close()


@pytest.fixture
def tenant() -> Tenant:
    return Tenant(f"org-{secrets.token_hex(4)}", f"proj-{secrets.token_hex(4)}")


def chat_record(
    tenant: Tenant,
    *,
    started_at: float | None = None,
    input_tokens: int | None = 10,
    output_tokens: int | None = 5,
    outcome: str = OK,
    model: str = "model-a",
    credential_id: str = "cred-1",
) -> UsageRecord:
    return UsageRecord(
        tenant=tenant,
        operation=CHAT,
        provider="fake",
        outcome=outcome,
        started_at=time.time() if started_at is None else started_at,
        duration_seconds=0.5,
        credential_id=credential_id,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        provider_request_id="req-1",
    )


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
