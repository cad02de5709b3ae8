from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from integration_api.database import Database
from tests.support.service import settings_for_tests


@pytest.fixture(scope="package")
async def database(package_database_dsn: str) -> AsyncIterator[Database]:
    """The package's database, migrated, as the service holds it."""
    with tempfile.TemporaryDirectory(prefix="integration-api-test-") as data_dir:
        database = Database(settings_for_tests(Path(data_dir)), dsn=package_database_dsn)
        await database.start()
        assert await database.probe() is None
        yield database
        await database.close()
