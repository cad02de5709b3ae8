from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from integration_api.store.embedded import EmbeddedPostgres

pytestmark = pytest.mark.embedded_postgres


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # A short path: the server's Unix socket lives inside it and socket paths are length-limited.
    directory = Path(tempfile.mkdtemp(prefix="itest-pg-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


async def test_embedded_postgres_keeps_data_across_a_restart(data_dir: Path) -> None:
    embedded = EmbeddedPostgres(data_dir)
    dsn = await embedded.start()
    try:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute("CREATE TABLE kept (value text)")
            await connection.execute("INSERT INTO kept VALUES ('survives restart')")
        finally:
            await connection.close()
    finally:
        await embedded.stop()

    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(dsn, timeout=2)

    restarted = EmbeddedPostgres(data_dir)
    dsn_again = await restarted.start()
    try:
        connection = await asyncpg.connect(dsn_again)
        try:
            assert await connection.fetchval("SELECT value FROM kept") == "survives restart"
            assert await connection.fetchval("SELECT current_database()") == "integration_api"
        finally:
            await connection.close()
    finally:
        await restarted.stop()
