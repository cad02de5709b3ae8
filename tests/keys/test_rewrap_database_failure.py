"""The database failing in the middle of a rewrap leaves every row readable; a rerun finishes."""

from __future__ import annotations

import asyncio

import pytest

from integration_api.credentials.rewrap import rewrap_all
from integration_api.store.database import ConnectionPool, create_pool
from integration_api.vault import Envelope, Keyring, generate_key
from tests.keys.support import decrypted_secrets, seal_credentials, stored_rows
from tests.support.tcp_proxy import TcpProxy

OLD, NEW = generate_key(), generate_key()
ROTATING = Envelope(Keyring.from_settings(NEW, OLD))


async def test_database_lost_mid_rewrap_leaves_every_row_readable_and_a_rerun_finishes(
    pool: ConnectionPool, empty_database_dsn: str
) -> None:
    expected = await seal_credentials(pool, Envelope(Keyring.from_settings(OLD)), 30)
    proxy = TcpProxy.in_front_of(empty_database_dsn)
    await proxy.start()
    flaky_pool = await create_pool(proxy.dsn_through(empty_database_dsn), min_size=1, max_size=2)
    cut: list[asyncio.Task[None]] = []

    def cut_after_first_batch(handled: int, _total: int) -> None:
        if handled and not cut:
            cut.append(asyncio.ensure_future(proxy.cut()))

    try:
        with pytest.raises(Exception):  # noqa: B017 - whatever asyncpg raises for a lost server
            await rewrap_all(flaky_pool, ROTATING, batch_size=10, progress=cut_after_first_batch)
    finally:
        await proxy.cut()
        flaky_pool.terminate()
    midway = await stored_rows(pool)
    assert decrypted_secrets(ROTATING, midway) == expected
    moved = sum(row.key_id == ROTATING.keyring.primary_key_id for row in midway.values())
    assert 0 < moved < len(expected), "the failure hit in the middle of the work"
    report = await rewrap_all(pool, ROTATING, batch_size=10)
    assert report.left_on_other_keys == 0
    assert (
        decrypted_secrets(Envelope(Keyring.from_settings(NEW)), await stored_rows(pool)) == expected
    )
