"""The service's database connection over TLS, against a PostgreSQL that accepts TLS only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from integration_api.config import Settings, load_settings
from integration_api.database import Database
from integration_api.store.database import DatabaseConnection
from integration_api.tls import check_store_tls
from tests.store_tls.conftest import (
    CERTIFICATE_ROLE_PASSWORD,
    POSTGRES_PASSWORD,
    Servers,
)
from tests.support.tls_servers import CERTIFICATE_ROLE, TlsPostgres, free_port


def _settings(server: TlsPostgres | int, **env: str) -> Settings:
    """Settings read from these variables, as the service reads them at start-up."""
    port = server if isinstance(server, int) else server.port
    variables = {
        "POSTGRES__HOST": "127.0.0.1",
        "POSTGRES__PORT": str(port),
        "POSTGRES__DB_NAME": "postgres",
        "POSTGRES__AUTH__USER": "postgres",
        "POSTGRES__AUTH__PASSWORD": POSTGRES_PASSWORD,
        **env,
    }
    settings = load_settings(variables)
    check_store_tls(settings.postgres, settings.redis)
    return settings


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    await database.start()
    try:
        yield database
    finally:
        await database.close()


async def _probe(settings: Settings) -> str | None:
    async with _database(settings) as database:
        return await database.probe()


async def _session_is_encrypted(connection: DatabaseConnection) -> bool:
    query = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    return bool(await connection.fetchval(query))


async def test_verify_full_connects_over_tls_to_a_server_whose_certificate_names_the_host(
    servers: Servers,
) -> None:
    ca = str(servers.certificates.ca)
    settings = _settings(
        servers.postgres, POSTGRES__SSL_MODE="verify-full", POSTGRES__SSL_ROOT_CERT=ca
    )
    async with _database(settings) as database:
        assert await database.probe() is None
        async with database.pool.acquire() as pooled:
            assert await _session_is_encrypted(pooled)
        # The change listener and the leader lease connect with the DSN alone.
        direct = await asyncpg.connect(database.dsn)
        try:
            assert await _session_is_encrypted(direct)
        finally:
            await direct.close()


async def test_verify_full_refuses_a_certificate_for_another_host_that_verify_ca_accepts(
    servers: Servers,
) -> None:
    ca = str(servers.certificates.ca)
    other_host = {"POSTGRES__HOST": "localhost", "POSTGRES__SSL_ROOT_CERT": ca}
    full = _settings(servers.postgres_elsewhere, POSTGRES__SSL_MODE="verify-full", **other_host)
    reason = await _probe(full)
    assert reason is not None
    assert reason.startswith(f"localhost:{servers.postgres_elsewhere.port}/postgres: ")
    assert "certificate verify failed: Hostname mismatch" in reason
    chain_only = _settings(servers.postgres_elsewhere, POSTGRES__SSL_MODE="verify-ca", **other_host)
    assert await _probe(chain_only) is None


async def test_a_server_certificate_from_another_ca_is_refused(servers: Servers) -> None:
    other_ca = str(servers.certificates.other_ca)
    for mode in ("verify-ca", "verify-full", "require"):
        settings = _settings(
            servers.postgres, POSTGRES__SSL_MODE=mode, POSTGRES__SSL_ROOT_CERT=other_ca
        )
        reason = await _probe(settings)
        assert reason is not None, mode
        assert "certificate verify failed: self-signed certificate in certificate chain" in reason


async def test_the_server_refuses_plain_connections(servers: Servers) -> None:
    reason = await _probe(_settings(servers.postgres, POSTGRES__SSL_MODE="disable"))
    assert reason is not None
    assert "no pg_hba.conf entry" in reason and "no encryption" in reason


async def test_a_client_certificate_is_presented_when_the_server_asks_for_one(
    servers: Servers,
) -> None:
    certificates = servers.certificates
    role = {
        "POSTGRES__AUTH__USER": CERTIFICATE_ROLE,
        "POSTGRES__DB_NAME": CERTIFICATE_ROLE,
        "POSTGRES__AUTH__PASSWORD": CERTIFICATE_ROLE_PASSWORD,
        "POSTGRES__SSL_MODE": "verify-full",
        "POSTGRES__SSL_ROOT_CERT": str(certificates.ca),
    }
    without = await _probe(_settings(servers.postgres, **role))
    assert without is not None and "certificate" in without
    assert CERTIFICATE_ROLE_PASSWORD not in without
    with_certificate = _settings(
        servers.postgres,
        POSTGRES__SSL_CERT=str(certificates.client.cert),
        POSTGRES__SSL_KEY=str(certificates.client.key),
        **role,
    )
    async with _database(with_certificate) as database:
        assert await database.probe() is None
        client_dn = await database.pool.fetchval(
            "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
    assert client_dn == f"/CN={CERTIFICATE_ROLE}"


async def test_a_wrong_password_is_named_as_the_cause_and_never_shown(servers: Servers) -> None:
    wrong = "wrong-" + POSTGRES_PASSWORD[::-1]
    settings = _settings(
        servers.postgres,
        POSTGRES__AUTH__PASSWORD=wrong,
        POSTGRES__SSL_MODE="verify-full",
        POSTGRES__SSL_ROOT_CERT=str(servers.certificates.ca),
    )
    reason = await _probe(settings)
    assert reason == (
        f"127.0.0.1:{servers.postgres.port}/postgres: "
        'password authentication failed for user "postgres"'
    )


async def test_a_refused_port_is_named_with_its_address(servers: Servers) -> None:
    port = free_port()
    settings = _settings(
        port, POSTGRES__SSL_MODE="verify-full", POSTGRES__SSL_ROOT_CERT=str(servers.certificates.ca)
    )
    assert await _probe(settings) == f"127.0.0.1:{port}/postgres: connection refused"
