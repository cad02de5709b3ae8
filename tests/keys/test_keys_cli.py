"""`integration-api keys status` and `keys rewrap` as real processes against real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from integration_api.store.database import ConnectionPool
from integration_api.vault import Envelope, Keyring, generate_key
from tests.keys.support import (
    CLI,
    cli_environment,
    decrypted_secrets,
    run_cli,
    seal_credentials,
    status_table,
    stored_rows,
)
from tests.support.credential_keys import CredentialKeyRepository

OLD, NEW, SPARE, LOST = (generate_key() for _ in range(4))


def key_id_of(key: str) -> str:
    return Keyring.from_settings(key).primary_key_id


def sealed_by(key: str) -> Envelope:
    return Envelope(Keyring.from_settings(key))


async def test_status_prints_credentials_per_key_with_roles(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    await seal_credentials(pool, sealed_by(OLD), 3)
    await seal_credentials(pool, sealed_by(NEW), 2)
    env = cli_environment(tmp_path, empty_database_dsn, NEW, f"{OLD},{SPARE}")
    result = await run_cli(env, "keys", "status")
    assert result.code == 0, result.stderr
    assert status_table(result.stdout) == {
        key_id_of(NEW): ("primary", 2),
        key_id_of(OLD): ("decrypt-only", 3),
        key_id_of(SPARE): ("decrypt-only", 0),
    }
    assert "3 sealed value(s) on decrypt-only keys" in result.stdout
    for key in (OLD, NEW, SPARE):
        assert key not in result.stdout + result.stderr


async def test_status_names_a_key_id_the_keyring_lacks_and_exits_1(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    await seal_credentials(pool, sealed_by(LOST), 2)
    await seal_credentials(pool, sealed_by(NEW), 1)
    result = await run_cli(cli_environment(tmp_path, empty_database_dsn, NEW), "keys", "status")
    assert result.code == 1
    assert status_table(result.stdout) == {
        key_id_of(NEW): ("primary", 1),
        key_id_of(LOST): ("missing", 2),
    }
    assert f"the keyring lacks key id(s) {key_id_of(LOST)}" in result.stdout


async def test_rewrap_moves_every_row_reports_progress_per_batch_and_is_idempotent(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    expected = await seal_credentials(pool, sealed_by(OLD), 12)
    env = cli_environment(tmp_path, empty_database_dsn, NEW, OLD)
    result = await run_cli(env, "keys", "rewrap", "--batch-size", "5")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "rewrapped 12 rows, 0 left on other keys",
        "rewrapped per store: credentials 12",
    ]
    progress = [line for line in result.stderr.splitlines() if line.startswith("rewrap:")]
    assert progress == [f"rewrap: {done}/12 rows" for done in (0, 5, 10, 12)]
    assert decrypted_secrets(sealed_by(NEW), await stored_rows(pool)) == expected
    status = await run_cli(env, "keys", "status")
    assert status_table(status.stdout) == {
        key_id_of(NEW): ("primary", 12),
        key_id_of(OLD): ("decrypt-only", 0),
    }
    assert f"nothing uses {key_id_of(OLD)}, which may be retired" in status.stdout
    again = await run_cli(env, "keys", "rewrap", "--batch-size", "5")
    assert (again.code, again.stdout.strip()) == (0, "rewrapped 0 rows, 0 left on other keys")


async def test_rewrap_with_a_limit_stops_and_the_next_run_continues(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    expected = await seal_credentials(pool, sealed_by(OLD), 10)
    env = cli_environment(tmp_path, empty_database_dsn, NEW, OLD)
    first = await run_cli(env, "keys", "rewrap", "--batch-size", "4", "--limit", "4")
    assert (first.code, first.stdout.splitlines()[0]) == (
        1,
        "rewrapped 4 rows, 6 left on other keys",
    )
    assert decrypted_secrets(
        Envelope(Keyring.from_settings(NEW, OLD)), await stored_rows(pool)
    ) == (expected)
    second = await run_cli(env, "keys", "rewrap", "--batch-size", "4")
    assert (second.code, second.stdout.splitlines()[0]) == (
        0,
        "rewrapped 6 rows, 0 left on other keys",
    )
    assert await CredentialKeyRepository(pool).count_by_key_id() == {key_id_of(NEW): 10}


async def test_rewrap_names_rows_on_a_missing_key_by_id_and_exits_1(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    lost = await seal_credentials(pool, sealed_by(LOST), 2)
    await seal_credentials(pool, sealed_by(OLD), 3)
    before = await stored_rows(pool)
    env = cli_environment(tmp_path, empty_database_dsn, NEW, OLD)
    result = await run_cli(env, "keys", "rewrap")
    assert result.code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "rewrapped 3 rows, 2 left on other keys"
    assert lines[1] == "rewrapped per store: credentials 3"
    assert sorted(lines[2:4]) == sorted(
        f"not rewrapped: credential {credential_id}: key id {key_id_of(LOST)} is not in the keyring"
        for credential_id in lost
    )
    assert key_id_of(LOST) in lines[4]
    after = await stored_rows(pool)
    assert all(after[credential_id] == before[credential_id] for credential_id in lost)
    for secret in lost.values():
        assert secret not in result.stdout + result.stderr


async def test_rewrap_on_a_terminal_redraws_one_progress_line(
    tmp_path: Path, empty_database_dsn: str, pool: ConnectionPool
) -> None:
    await seal_credentials(pool, sealed_by(OLD), 5)
    env = cli_environment(tmp_path, empty_database_dsn, NEW, OLD)
    controller, terminal = os.openpty()
    process = await asyncio.create_subprocess_exec(
        *CLI,
        "keys",
        "rewrap",
        "--batch-size",
        "2",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    shown = _read_all(controller)
    assert process.returncode == 0
    assert stdout.decode().splitlines()[0] == "rewrapped 5 rows, 0 left on other keys"
    redraws = "".join(f"\rrewrap: {done}/5 rows\x1b[K" for done in (0, 2, 4, 5))
    assert redraws + "\r\n" in shown


def _read_all(controller: int) -> str:
    chunks: list[bytes] = []
    try:
        while chunk := os.read(controller, 4096):
            chunks.append(chunk)
    except OSError:  # the terminal's other end is closed: everything has been read
        pass
    finally:
        os.close(controller)
    return b"".join(chunks).decode()


async def test_rewrap_refuses_a_batch_size_below_one(
    tmp_path: Path, empty_database_dsn: str
) -> None:
    env = cli_environment(tmp_path, empty_database_dsn, NEW, OLD)
    result = await run_cli(env, "keys", "rewrap", "--batch-size", "0")
    assert result.code == 2
    assert "--batch-size: must be at least 1" in result.stderr
