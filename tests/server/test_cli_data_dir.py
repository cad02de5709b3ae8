"""`token` and `keys` use what `serve` kept in its data directory, and never make another one.

Run outside that directory, they stop and say where they looked and how to point them at it,
instead of creating a second `./data` with a new SECRET, key and database.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from integration_api.auth.tokens import TokenPolicy, verify_token
from integration_api.config import Settings
from integration_api.errors import FailedPrecondition
from integration_api.server.bootstrap import with_development_defaults, with_kept_defaults

CLI = [sys.executable, "-m", "integration_api.cli"]
TENANT = ("--organization", "o1", "--project", "p1")
ADVICE = "Point it at the server's with DATA_DIR=/path/to/data or --data-dir /path/to/data"


def _development_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any of the service's settings: development."""
    own = ("POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO", "DATA_DIR", "ENV")
    env = {key: value for key, value in os.environ.items() if not key.startswith(own)}
    env.update(extra)
    return env


async def _run(cwd: Path, env: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *arguments,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def _names(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    return directory


@pytest.fixture
def server_data_dir(tmp_path: Path) -> Path:
    """A data directory as `integration-api serve` leaves it in development."""
    data_dir = tmp_path / "server" / "data"
    with_development_defaults(Settings(data_dir=data_dir))
    return data_dir


async def test_token_outside_the_data_directory_says_where_it_looked_and_creates_nothing(
    elsewhere: Path,
) -> None:
    code, stdout, stderr = await _run(elsewhere, _development_environment(), "token", *TENANT)

    assert code == 2
    assert stdout == ""
    assert f"SECRET is not set and DATA_DIR ({elsewhere}/data) has no service-secret" in stderr
    assert ADVICE in stderr
    assert _names(elsewhere) == []


@pytest.mark.parametrize("pointed_by", ["--data-dir", "DATA_DIR"])
async def test_token_signs_with_the_secret_serve_kept(
    elsewhere: Path, server_data_dir: Path, pointed_by: str
) -> None:
    env = _development_environment()
    options: tuple[str, ...] = ("--data-dir", str(server_data_dir))
    if pointed_by == "DATA_DIR":
        env, options = _development_environment(DATA_DIR=str(server_data_dir)), ()

    code, stdout, stderr = await _run(elsewhere, env, "token", *TENANT, *options)

    assert code == 0, stderr
    secret = (server_data_dir / "service-secret").read_text().strip()
    principal = verify_token(TokenPolicy(secret), stdout.strip())
    assert principal.tenant.organization_id == "o1"
    assert _names(elsewhere) == []


async def test_token_in_the_directory_serve_ran_in_reads_its_data(server_data_dir: Path) -> None:
    code, stdout, stderr = await _run(
        server_data_dir.parent, _development_environment(), "token", *TENANT
    )

    assert code == 0, stderr
    secret = (server_data_dir / "service-secret").read_text().strip()
    verify_token(TokenPolicy(secret), stdout.strip())


async def test_keys_status_outside_the_data_directory_names_the_missing_key(
    elsewhere: Path,
) -> None:
    code, _stdout, stderr = await _run(elsewhere, _development_environment(), "keys", "status")

    assert code == 2
    assert (
        f"INTEGRATION_CRYPTO_KEY is not set and DATA_DIR ({elsewhere}/data) has no crypto-key"
        in stderr
    )
    assert ADVICE in stderr
    assert _names(elsewhere) == []


@pytest.mark.parametrize("command", ["status", "rewrap"])
async def test_keys_without_a_database_start_none(
    elsewhere: Path, server_data_dir: Path, command: str
) -> None:
    # The key is there, but no embedded database was ever started in this directory.
    env = _development_environment(DATA_DIR=str(server_data_dir))

    code, _stdout, stderr = await _run(elsewhere, env, "keys", command)

    assert code == 2
    assert (
        f"POSTGRES__HOST is not set and DATA_DIR ({server_data_dir}) has no embedded database"
        in stderr
    )
    assert _names(server_data_dir) == ["crypto-key", "service-secret"]


def test_production_reads_nothing_from_the_data_directory(server_data_dir: Path) -> None:
    settings = Settings(environment="production", data_dir=server_data_dir)

    assert with_kept_defaults(settings, ["secret"]).secret == ""
    with pytest.raises(FailedPrecondition, match="INTEGRATION_CRYPTO_KEY is required"):
        with_kept_defaults(settings, ["crypto_key"])
