"""`integration-api serve` in production against TLS-only PostgreSQL and Redis with passwords."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from pathlib import Path

from integration_api.vault import generate_key
from tests.fleet.processes import CLI, ServiceProcess, free_port, launched, wait_serving
from tests.store_tls.conftest import POSTGRES_PASSWORD, REDIS_PASSWORD, Servers


def _production_environment(data_dir: Path, servers: Servers, ca: Path) -> dict[str, str]:
    ours = ("ENV", "POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO", "OAUTH_", "WORKERS")
    env = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    env.update(
        ENV="production",
        LOG_FORMAT="json",
        DATA_DIR=str(data_dir),
        HOST="127.0.0.1",
        PORT=str(free_port()),
        METRICS_PORT="0",
        READINESS_INTERVAL_SECONDS="0.2",
        SHUTDOWN_GRACE_SECONDS="2",
        SECRET=secrets.token_urlsafe(48),
        INTEGRATION_CRYPTO_KEY=generate_key(),
        POSTGRES__HOST="127.0.0.1",
        POSTGRES__PORT=str(servers.postgres.port),
        POSTGRES__DB_NAME="postgres",
        POSTGRES__AUTH__USER="postgres",
        POSTGRES__AUTH__PASSWORD=POSTGRES_PASSWORD,
        POSTGRES__SSL_MODE="verify-full",
        POSTGRES__SSL_ROOT_CERT=str(ca),
        REDIS__HOST="127.0.0.1",
        REDIS__PORT=str(servers.redis.port),
        REDIS__AUTH__PASSWORD=REDIS_PASSWORD,
        REDIS__TLS="true",
        REDIS__TLS_CA_CERT=str(ca),
    )
    return env


def _assert_no_password(service: ServiceProcess) -> None:
    output = service.output()
    assert POSTGRES_PASSWORD not in output
    assert REDIS_PASSWORD not in output


async def test_workers_serve_in_production_over_verify_full_tls(
    tmp_path: Path, servers: Servers
) -> None:
    env = _production_environment(tmp_path, servers, servers.certificates.ca)
    async with launched(env, tmp_path / "serve.log", "--workers", "2") as service:
        await wait_serving(service)
        service.process.send_signal(signal.SIGTERM)
        assert await service.wait_exit() == 0, service.output()
    assert len(service.events("worker started")) == 2
    _assert_no_password(service)


async def test_readiness_logs_the_tls_failure_with_the_address_and_no_password(
    tmp_path: Path, servers: Servers
) -> None:
    env = _production_environment(tmp_path, servers, servers.certificates.other_ca)
    async with launched(env, tmp_path / "serve.log", "--workers", "1") as service:
        for _attempt in range(200):
            if service.events("dependency not ready"):
                break
            await asyncio.sleep(0.05)
        [not_ready] = service.events("dependency not ready")
    assert not_ready["dependency"] == "database"
    assert not_ready["reason"] == (
        f"127.0.0.1:{servers.postgres.port}/postgres: "
        "certificate verify failed: self-signed certificate in certificate chain"
    )
    _assert_no_password(service)


async def _migrate(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *CLI, "migrate", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


async def test_migrate_runs_over_tls_and_names_a_certificate_it_refuses(
    tmp_path: Path, servers: Servers
) -> None:
    code, output = await _migrate(
        _production_environment(tmp_path, servers, servers.certificates.ca)
    )
    # Earlier lines, if any, are the log of migrations applied now.
    assert (code, output.splitlines()[-1]) == (0, "database schema is up to date")
    wrong_ca = _production_environment(tmp_path, servers, servers.certificates.other_ca)
    code, output = await _migrate(wrong_ca)
    assert code == 1
    assert POSTGRES_PASSWORD not in output
    assert output.splitlines()[-1] == (
        f"migration failed: 127.0.0.1:{servers.postgres.port}/postgres: "
        "certificate verify failed: self-signed certificate in certificate chain"
    )
