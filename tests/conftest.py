"""Shared fixtures: a real PostgreSQL database per test session and a real Redis."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest

from tests.support.databases import fresh_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
async def postgres_dsn() -> AsyncIterator[str]:
    """A database of its own for this test session (migrations are applied by its users)."""
    async with fresh_database() as dsn:
        yield dsn


@pytest.fixture(scope="package")
async def package_database_dsn() -> AsyncIterator[str]:
    """A database of its own for one test package, e.g. for a service shared by its tests
    (credentials written there are encrypted under that service's keyring, so they must not
    meet another package's service)."""
    async with fresh_database() as dsn:
        yield dsn


@pytest.fixture
async def empty_database_dsn() -> AsyncIterator[str]:
    """A brand-new database for one test."""
    async with fresh_database() as dsn:
        yield dsn


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses, so tests can share the machine's Redis."""
    return f"itest:{secrets.token_hex(4)}:"
