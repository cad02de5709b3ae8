"""What a production start refuses, checked once before any worker starts, as one line."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import sys
from pathlib import Path

import pytest

from integration_api.vault import generate_key
from tests.fleet.processes import free_port

CLI = [sys.executable, "-m", "integration_api.cli"]
GOOD_SECRET = secrets.token_urlsafe(48)


def _environment(data_dir: Path, **settings: str) -> dict[str, str]:
    ours = ("ENV", "POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO", "WORKERS", "LOG_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        ENV="production",
        DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(free_port()),
        METRICS_PORT="0",
        SECRET=GOOD_SECRET,
        INTEGRATION_CRYPTO_KEY=generate_key(),
        # Never reached: every case here is refused before anything connects.
        POSTGRES__HOST="127.0.0.1",
        POSTGRES__PORT=str(free_port()),
    )
    env.update(settings)
    return {key: value for key, value in env.items() if value}


async def _run(env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode().splitlines()


def _text_key(text: bytes) -> str:
    return base64.b64encode(text).decode()


REFUSALS = [
    pytest.param(
        {"POSTGRES__HOST": ""},
        "POSTGRES__HOST is required when ENV=production",
        id="no-postgres-host",
    ),
    pytest.param({"SECRET": ""}, "SECRET is required when ENV=production", id="no-secret"),
    pytest.param({"SECRET": "short-Zq7"}, "SECRET is shorter than 32 bytes", id="short-secret"),
    pytest.param(
        {"INTEGRATION_CRYPTO_KEY": ""},
        "INTEGRATION_CRYPTO_KEY is required when ENV=production",
        id="no-key",
    ),
    pytest.param(
        {"INTEGRATION_CRYPTO_KEY": "not-a-key-4fz9"},
        "INTEGRATION_CRYPTO_KEY must be a 32-byte key",
        id="malformed-key",
    ),
    pytest.param(
        {"INTEGRATION_CRYPTO_KEY": "00" * 32},
        "INTEGRATION_CRYPTO_KEY has fewer than 16 distinct bytes",
        id="zero-key",
    ),
    pytest.param(
        {"INTEGRATION_CRYPTO_KEY": _text_key(b"correct-horse-battery-staple-42!")},
        "INTEGRATION_CRYPTO_KEY decodes to plain text",
        id="password-as-key",
    ),
]


@pytest.mark.parametrize(("settings", "message"), REFUSALS)
async def test_a_production_start_is_refused_once_before_any_worker_starts(
    tmp_path: Path, settings: dict[str, str], message: str
) -> None:
    env = _environment(tmp_path, **settings)
    code, lines = await _run(env, "serve", "--workers", "2")
    assert code == 2
    [line] = lines
    assert line.startswith(f"integration-api: {message}")
    for value in settings.values():
        assert not value or value not in line
    assert os.listdir(tmp_path) == []  # nothing started, nothing created


async def test_a_weak_decrypt_only_key_is_accepted_so_a_deployment_can_rotate_away(
    tmp_path: Path,
) -> None:
    """A weak key may stay as decrypt-only, so a deployment can rotate away from it."""
    env = _environment(
        tmp_path,
        INTEGRATION_CRYPTO_KEYS="00" * 32,
        POSTGRES__SSL_MODE="verify-full",
        POSTGRES__SSL_ROOT_CERT=str(tmp_path / "absent-ca.crt"),
    )
    code, lines = await _run(env, "serve")
    assert code == 2
    # The keyring passed; the start stopped at the next check, the missing CA file.
    assert lines == [
        f"integration-api: POSTGRES__SSL_ROOT_CERT: cannot read {tmp_path / 'absent-ca.crt'}: "
        "No such file or directory"
    ]


@pytest.mark.parametrize("command", [["serve"], ["migrate"], ["keys", "status"]])
async def test_an_unreadable_tls_file_stops_every_command_naming_the_setting_and_path(
    tmp_path: Path, command: list[str]
) -> None:
    directory_not_file = tmp_path / "ca-directory"
    directory_not_file.mkdir()
    env = _environment(
        tmp_path,
        ENV="development",
        REDIS__HOST="127.0.0.1",
        REDIS__TLS="true",
        REDIS__TLS_CA_CERT=str(directory_not_file),
    )
    code, lines = await _run(env, *command)
    assert code == 2
    assert lines == [
        f"integration-api: REDIS__TLS_CA_CERT: cannot read {directory_not_file}: Is a directory"
    ]
