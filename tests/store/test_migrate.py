from __future__ import annotations

import asyncio

import asyncpg
import pytest

from integration_api.store.database import create_pool
from integration_api.store.migrate import (
    Migration,
    MigrationError,
    apply_migrations,
    load_migrations,
)


def test_migration_files_load_in_number_order() -> None:
    versions = [migration.version for migration in load_migrations()]
    assert versions[0] == "0001_credentials_and_audit"
    assert versions == sorted(versions)


async def test_concurrent_replicas_apply_each_migration_exactly_once(
    empty_database_dsn: str,
) -> None:
    pools = [await create_pool(empty_database_dsn, min_size=1, max_size=1) for _ in range(5)]
    try:
        results = await asyncio.gather(*(apply_migrations(pool) for pool in pools))
        expected = [migration.version for migration in load_migrations()]
        assert sorted(results, key=len) == [[]] * 4 + [expected]
        recorded = await pools[0].fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in recorded] == expected
        assert await pools[0].fetchval("SELECT to_regclass('credentials') IS NOT NULL")
        assert await apply_migrations(pools[0]) == []
    finally:
        for pool in pools:
            await pool.close()


async def test_a_migration_edited_after_it_was_applied_is_refused(
    empty_database_dsn: str,
) -> None:
    pool = await create_pool(empty_database_dsn, min_size=1, max_size=1)
    try:
        original = Migration("0001_example", "CREATE TABLE example (id int)", "checksum-a")
        assert await apply_migrations(pool, [original]) == ["0001_example"]
        edited = Migration("0001_example", "CREATE TABLE example (id bigint)", "checksum-b")
        with pytest.raises(MigrationError, match="0001_example"):
            await apply_migrations(pool, [edited])
    finally:
        await pool.close()


async def test_a_failing_migration_leaves_no_trace_and_keeps_earlier_ones(
    empty_database_dsn: str,
) -> None:
    pool = await create_pool(empty_database_dsn, min_size=1, max_size=1)
    try:
        good = Migration("0001_good", "CREATE TABLE good (id int)", "a")
        broken = Migration("0002_broken", "CREATE TABLE half (id int); SELECT 1/0", "b")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await apply_migrations(pool, [good, broken])
        assert await pool.fetchval("SELECT to_regclass('good') IS NOT NULL")
        assert await pool.fetchval("SELECT to_regclass('half') IS NULL")
        recorded = await pool.fetch("SELECT version FROM schema_migrations")
        assert [row["version"] for row in recorded] == ["0001_good"]
        # The lock was released despite the failure: a fixed file applies on the next start.
        fixed = Migration("0002_broken", "CREATE TABLE half (id int)", "c")
        assert await apply_migrations(pool, [good, fixed]) == ["0002_broken"]
    finally:
        await pool.close()
