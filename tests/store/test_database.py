from __future__ import annotations

from urllib.parse import unquote, urlsplit

import asyncpg
import pytest

from integration_api.store.database import create_pool, describe_dsn, dsn_from_parts


def test_dsn_from_parts_quotes_user_and_password() -> None:
    password = "p@ss:w/rd?#%&= é"
    dsn = dsn_from_parts("db.internal", 5433, "integration", "svc@team", password, "require")
    parts = urlsplit(dsn)
    assert parts.hostname == "db.internal"
    assert parts.port == 5433
    assert unquote(parts.username or "") == "svc@team"
    assert unquote(parts.password or "") == password
    assert parts.path == "/integration"
    assert parts.query == "sslmode=require"


def test_dsn_from_parts_brackets_an_ipv6_host() -> None:
    assert urlsplit(dsn_from_parts("::1", 5432, "db", "u")).hostname == "::1"


def test_dsn_from_parts_puts_a_socket_directory_in_the_query() -> None:
    dsn = dsn_from_parts("/var/run/postgresql", 5432, "db", "u")
    assert dsn == "postgresql://u@/db?host=%2Fvar%2Frun%2Fpostgresql&port=5432"


def test_dsn_from_parts_refuses_an_unknown_ssl_mode() -> None:
    with pytest.raises(ValueError, match="POSTGRES__SSL_MODE"):
        dsn_from_parts("localhost", 5432, "db", "u", "", "sometimes")


def test_describe_dsn_leaves_out_user_and_password() -> None:
    dsn = dsn_from_parts("db.internal", 5432, "integration", "admin", "hunter2-secret")
    description = describe_dsn(dsn)
    assert description == "db.internal:5432/integration"
    assert "hunter2" not in description
    assert "admin" not in description


async def test_a_dsn_with_special_characters_in_the_password_connects(postgres_dsn: str) -> None:
    # The test server trusts loopback connections, so the password is parsed but not checked.
    target = urlsplit(postgres_dsn)
    dsn = dsn_from_parts(
        target.hostname or "127.0.0.1",
        target.port or 5432,
        target.path.lstrip("/"),
        target.username or "postgres",
        "p@ss:w/rd?#",
        "disable",
    )
    connection = await asyncpg.connect(dsn)
    try:
        assert await connection.fetchval("SELECT current_database()") == target.path.lstrip("/")
    finally:
        await connection.close()


async def test_pool_maps_jsonb_to_dict_and_back(postgres_dsn: str) -> None:
    pool = await create_pool(postgres_dsn, min_size=1, max_size=2)
    try:
        document = {"base_url": "https://x.test", "extra": {"n": 3, "flag": True, "none": None}}
        returned = await pool.fetchval("SELECT $1::jsonb", document)
        assert returned == document
        assert await pool.fetchval("""SELECT '{"a": [1, "b"]}'::jsonb""") == {"a": [1, "b"]}
    finally:
        await pool.close()
