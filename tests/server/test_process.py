"""The real `integration-api` process: secret policy, SIGTERM drain and exit status."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import ListCredentialsRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.auth.tokens import TokenPolicy, mint_token, verify_token
from integration_api.config import Settings
from integration_api.server.bootstrap import with_development_defaults
from integration_api.vault import generate_key
from tests.support.health_client import check_status, next_status, watch

CLI = [sys.executable, "-m", "integration_api.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(tmp_path: Path, dsn: str, **extra: str) -> dict[str, str]:
    parts = urlsplit(dsn)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTGRES__", "REDIS__", "SECRET", "INTEGRATION_CRYPTO"))
    }
    env.update(
        DATA_DIR=str(tmp_path),
        HOST="127.0.0.1",
        PORT=str(_free_port()),
        METRICS_PORT="0",
        POSTGRES__HOST=parts.hostname or "127.0.0.1",
        POSTGRES__PORT=str(parts.port or 5432),
        POSTGRES__DB_NAME=parts.path.lstrip("/"),
        POSTGRES__AUTH__USER=parts.username or "postgres",
        READINESS_INTERVAL_SECONDS="0.2",
    )
    env.update(extra)
    return env


async def _run_to_exit(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


WEAK_SECRETS = [
    ("weak-Zq7", "SECRET is shorter than 32 bytes"),
    ("rpd_pks", "published default"),
    ("a" * 64, "fewer than 8 distinct characters"),
    ("rpd_pks" * 6, "fewer than 8 distinct characters"),
]


# Without SECRET, development and test create a random one; only production needs it given.
SECRET_CASES = [
    (environment, secret, reason)
    for environment in ("production", "development", "test")
    for secret, reason in WEAK_SECRETS
] + [("production", None, "SECRET is required")]


@pytest.mark.parametrize(("environment", "secret", "reason"), SECRET_CASES)
async def test_a_weak_or_missing_secret_is_refused_in_every_mode(
    tmp_path: Path, postgres_dsn: str, environment: str, secret: str | None, reason: str
) -> None:
    extra = {"ENV": environment, "INTEGRATION_CRYPTO_KEY": generate_key()}
    if secret is not None:
        extra["SECRET"] = secret
    code, output = await _run_to_exit(_environment(tmp_path, postgres_dsn, **extra), "serve")
    assert code == 2
    assert reason in output
    assert secret is None or secret not in output.replace(reason, "")


def test_the_container_image_runs_in_production_mode() -> None:
    dockerfile = (Path(__file__).parents[2] / "Dockerfile").read_text()
    runtime_stage = dockerfile.split("AS runtime", 1)[1]
    assert re.search(r"\bENV=production\b", runtime_stage)


async def _wait_serving(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        for _attempt in range(100):
            try:
                if await check_status(channel, timeout=1) == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the service never became SERVING")


async def test_sigterm_turns_not_serving_then_exits_zero(tmp_path: Path, postgres_dsn: str) -> None:
    env = _environment(tmp_path, postgres_dsn)
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    address = f"127.0.0.1:{env['PORT']}"
    try:
        await _wait_serving(address)
        async with grpc.aio.insecure_channel(address) as channel:
            watcher = watch(channel)
            assert await next_status(watcher) == health_pb2.HealthCheckResponse.SERVING
            process.send_signal(signal.SIGTERM)
            update = await asyncio.wait_for(next_status(watcher), 10)
            assert update == health_pb2.HealthCheckResponse.NOT_SERVING
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, output.decode()
    assert "stopped" in output.decode()
    assert "start-up heap frozen" in output.decode()


async def test_a_log_reader_that_stops_reading_never_stops_the_service(
    tmp_path: Path, postgres_dsn: str
) -> None:
    secret = generate_key() + generate_key()
    env = _environment(tmp_path, postgres_dsn, SECRET=secret)
    # stderr is a pipe nobody reads: it fills after a few hundred log lines.
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    address = f"127.0.0.1:{env['PORT']}"
    token = mint_token(secret, organization_id="org-logs", project_id="project-logs")
    try:
        await _wait_serving(address)
        async with grpc.aio.insecure_channel(address) as channel:
            listing = CredentialServiceStub(channel).list_credentials
            for _call in range(1500):  # one "rpc" line each, some 300 bytes: far past 64 KiB
                await listing(
                    ListCredentialsRequest(),
                    metadata=(("authorization", f"Bearer {token}"),),
                    timeout=5,
                )
        assert process.stderr is not None
        head = await asyncio.wait_for(process.stderr.read(4096), 5)
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stderr.read(), 30)
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = (head + rest).decode()
    assert process.returncode == 0
    assert output.count('"rpc"') + output.count(" rpc ") >= 100
    assert "log lines dropped" in output or output.count("ListCredentials") == 1500


async def test_token_command_mints_a_token_the_server_accepts(tmp_path: Path) -> None:
    with_development_defaults(Settings(data_dir=tmp_path))  # what `serve` leaves behind
    env = {"DATA_DIR": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    code, output = await _run_to_exit(env, "token", "--organization", "o1", "--project", "p1")
    assert code == 0, output
    token = output.strip().splitlines()[-1]
    secret = (tmp_path / "service-secret").read_text().strip()
    principal = verify_token(TokenPolicy(secret), token)
    assert (principal.tenant.organization_id, principal.tenant.project_id) == ("o1", "p1")


async def test_token_command_honours_the_configured_audience_issuer_and_lifetime(
    tmp_path: Path,
) -> None:
    with_development_defaults(Settings(data_dir=tmp_path))
    env = {
        "DATA_DIR": str(tmp_path),
        "PATH": os.environ.get("PATH", ""),
        "JWT_AUDIENCE": "integration-api",
        "JWT_ISSUER": "assistant-api",
        "JWT_MAX_TTL_SECONDS": "7200",
    }
    tenant = ("--organization", "o1", "--project", "p1")
    code, output = await _run_to_exit(env, "token", *tenant, "--ttl", "2h")
    assert code == 0, output
    secret = (tmp_path / "service-secret").read_text().strip()
    policy = TokenPolicy(
        secret, audience="integration-api", issuer="assistant-api", max_ttl_seconds=7200
    )
    verify_token(policy, output.strip().splitlines()[-1])
    code, output = await _run_to_exit(env, "token", *tenant, "--ttl", "3h")
    assert code == 2
    assert "--ttl is longer than JWT_MAX_TTL_SECONDS (7200 s)" in output


async def test_token_command_mints_operator_tokens_only_for_a_named_subject(
    tmp_path: Path,
) -> None:
    with_development_defaults(Settings(data_dir=tmp_path))
    env = {"DATA_DIR": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    tenant = ("--organization", "ops", "--project", "ops", "--operator")
    code, output = await _run_to_exit(env, "token", *tenant, "--user", "olga")
    assert code == 2
    assert "--operator needs --subject" in output
    code, output = await _run_to_exit(env, "token", *tenant, "--subject", "olga")
    assert code == 0, output
    secret = (tmp_path / "service-secret").read_text().strip()
    principal = verify_token(TokenPolicy(secret), output.strip().splitlines()[-1])
    assert principal.operator and principal.actor == "subject:olga"


async def test_migrate_command_brings_an_empty_database_up_to_date(
    tmp_path: Path, empty_database_dsn: str
) -> None:
    env = _environment(tmp_path, empty_database_dsn)
    code, output = await _run_to_exit(env, "migrate")
    assert code == 0, output
    assert "database schema is up to date" in output
    connection = await asyncpg.connect(empty_database_dsn)
    try:
        applied = await connection.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await connection.close()
    assert applied >= 2


async def test_health_probe_command_reports_serving_and_unreachable(
    tmp_path: Path, postgres_dsn: str
) -> None:
    env = _environment(tmp_path, postgres_dsn)
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    address = f"127.0.0.1:{env['PORT']}"
    try:
        await _wait_serving(address)
        code, output = await _run_to_exit(env, "health-probe", "--address", address)
        assert (code, output.strip()) == (0, "SERVING")
        # Without --address, the probe asks the PORT the service was given, on loopback.
        beside = {**env, "HOST": "0.0.0.0"}
        code, output = await _run_to_exit(beside, "health-probe")
        assert (code, output.strip()) == (0, "SERVING")
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    code, output = await _run_to_exit(env, "health-probe", "--timeout", "1")
    assert (code, output.strip()) == (1, f"unhealthy: UNAVAILABLE at {address}")


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("variable", ["PORT", "METRICS_PORT"])
async def test_a_port_in_use_ends_the_process_with_one_clear_line(
    tmp_path: Path, postgres_dsn: str, variable: str, workers: str
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = _environment(tmp_path, postgres_dsn, **{variable: str(port)})
        code, output = await _run_to_exit(env, "serve", "--workers", workers)
    assert code != 0
    assert output.strip().splitlines() == [
        f"integration-api: {variable}={port} is already in use on 127.0.0.1: stop the process "
        f"holding it or set {variable} to a free port"
    ]
