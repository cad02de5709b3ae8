"""Helpers of the key tests: seal credentials into the store, read them all back, run the CLI."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from integration_api.credentials.model import ApiKey
from integration_api.credentials.sealing import open_secret, seal
from integration_api.principal import Tenant
from integration_api.store.credential_rows import credential_from_record
from integration_api.store.credentials import CredentialRepository
from integration_api.store.database import ConnectionPool
from integration_api.store.models import AuditEvent, CredentialRow, NewCredential
from integration_api.vault import Envelope

CLI = [sys.executable, "-m", "integration_api.cli"]
_STATUS_ROW = re.compile(r"^(k[0-9a-f]{16})\s+(primary|decrypt-only|missing)((?:\s+\d+)+)$")


def new_secret() -> str:
    return "sk-proj-" + secrets.token_urlsafe(24)


async def seal_credentials(
    pool: ConnectionPool, envelope: Envelope, count: int, tenant: Tenant | None = None
) -> dict[str, str]:
    """Store `count` credentials sealed by `envelope`; returns credential id → secret."""
    tenant = tenant or Tenant(f"org-{secrets.token_hex(4)}", f"project-{secrets.token_hex(4)}")
    repository = CredentialRepository(pool)
    secrets_by_id: dict[str, str] = {}
    for _ in range(count):
        credential_id, secret = str(uuid.uuid4()), new_secret()
        sealed = seal(envelope, tenant, credential_id, "openai", ApiKey(key=secret))
        credential = NewCredential(
            id=credential_id,
            tenant=tenant,
            provider="openai",
            name=f"credential-{secrets.token_hex(4)}",
            config={"base_url": "https://api.openai.com/v1"},
            ciphertext=sealed.ciphertext,
            key_id=sealed.key_id,
            secret_hint=sealed.hint,
            fingerprint=sealed.fingerprint,
            status="unverified",
            created_by="user:test",
        )
        event = AuditEvent(
            actor="user:test",
            tenant=tenant,
            action="credential.create",
            target_type="credential",
            target_id=credential_id,
        )
        await repository.insert(credential, event)
        secrets_by_id[credential_id] = secret
    return secrets_by_id


async def stored_rows(pool: ConnectionPool) -> dict[str, CredentialRow]:
    records = await pool.fetch("SELECT * FROM credentials")
    rows = [credential_from_record(record) for record in records]
    return {row.id: row for row in rows}


def decrypted_secrets(envelope: Envelope, rows: dict[str, CredentialRow]) -> dict[str, str]:
    """Every row opened with `envelope` (raises if any does not decrypt)."""
    opened: dict[str, str] = {}
    for credential_id, row in rows.items():
        secret = open_secret(envelope, row)
        assert isinstance(secret, ApiKey)
        opened[credential_id] = secret.key
    return opened


def cli_environment(
    data_dir: Path, dsn: str, primary: str, decrypt_only: str = "", **extra: str
) -> dict[str, str]:
    """The service's settings for a CLI process: this database and this keyring."""
    parts = urlsplit(dsn)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO"))
    }
    env.update(
        ENV="test",
        DATA_DIR=str(data_dir),
        POSTGRES__HOST=parts.hostname or "127.0.0.1",
        POSTGRES__PORT=str(parts.port or 5432),
        POSTGRES__DB_NAME=parts.path.lstrip("/"),
        POSTGRES__AUTH__USER=parts.username or "postgres",
        INTEGRATION_CRYPTO_KEY=primary,
        INTEGRATION_CRYPTO_KEYS=decrypt_only,
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


async def run_cli(env: dict[str, str], *arguments: str) -> CliResult:
    process = await asyncio.create_subprocess_exec(
        *CLI,
        *arguments,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return CliResult(process.returncode, stdout.decode(), stderr.decode())


def status_table(stdout: str) -> dict[str, tuple[str, int]]:
    """`keys status` output as key id → (role, rows of every store)."""
    return {key_id: (role, counts[-1]) for key_id, (role, counts) in _status_rows(stdout).items()}


def status_by_store(stdout: str) -> dict[str, dict[str, int]]:
    """`keys status` output as key id → rows per store, as the table's headings name them."""
    headings = stdout.splitlines()[0].split()[3:-1]  # after KEY ID ROLE, before TOTAL
    return {
        key_id: dict(zip((name.lower() for name in headings), counts[:-1], strict=True))
        for key_id, (_role, counts) in _status_rows(stdout).items()
    }


def _status_rows(stdout: str) -> dict[str, tuple[str, list[int]]]:
    table: dict[str, tuple[str, list[int]]] = {}
    for line in stdout.splitlines():
        match = _STATUS_ROW.match(line)
        if match:
            table[match[1]] = (match[2], [int(count) for count in match[3].split()])
    return table
