from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from integration_api.store.database import ConnectionPool, create_pool
from integration_api.store.migrate import apply_migrations


@pytest.fixture
async def pool(empty_database_dsn: str) -> AsyncIterator[ConnectionPool]:
    """A migrated database of its own: key counts span the whole table."""
    connection_pool = await create_pool(empty_database_dsn, min_size=1, max_size=10)
    await apply_migrations(connection_pool)
    yield connection_pool
    await connection_pool.close()
