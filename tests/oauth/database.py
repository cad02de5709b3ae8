"""Direct database moves a test needs: ageing a token, making token writes fail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


async def execute(dsn: str, statement: str, *arguments: object) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.execute(statement, *arguments)
    finally:
        await connection.close()


async def fetchval(dsn: str, statement: str, *arguments: object) -> object:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(statement, *arguments)
    finally:
        await connection.close()


async def expire_in(dsn: str, connection_id: str, seconds: int) -> None:
    await execute(
        dsn,
        "UPDATE oauth_connections SET access_token_expires_at = now() + make_interval(secs => $2)"
        " WHERE id = $1",
        connection_id,
        seconds,
    )


@asynccontextmanager
async def failing_token_writes(dsn: str, connection_id: str, failures: int) -> AsyncIterator[None]:
    """The next `failures` writes of new tokens to this connection fail in the database.

    A sequence counts them: unlike a table, it is not rolled back with the failed write.
    """
    await execute(
        dsn,
        f"""
        CREATE SEQUENCE test_token_write_failures;
        CREATE FUNCTION test_fail_token_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.id = '{connection_id}'::uuid
               AND NEW.token_ciphertext IS DISTINCT FROM OLD.token_ciphertext
               AND nextval('test_token_write_failures') <= {failures} THEN
                RAISE EXCEPTION 'injected write failure';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_fail_token_write BEFORE UPDATE ON oauth_connections
            FOR EACH ROW EXECUTE FUNCTION test_fail_token_write();
        """,
    )
    try:
        yield
    finally:
        await execute(
            dsn,
            "DROP TRIGGER test_fail_token_write ON oauth_connections;"
            "DROP FUNCTION test_fail_token_write(); DROP SEQUENCE test_token_write_failures;",
        )
