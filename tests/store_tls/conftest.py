"""TLS-only PostgreSQL and Redis servers, started once for this package, and their certificates.

One CA signs a server certificate naming 127.0.0.1 (`server`), one naming another host
(`elsewhere`) and a client certificate for the role that must present one; a second CA signs
nothing the servers use. Passwords are random so a test can look for them in any output.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.support.certificates import Authority, KeyPair
from tests.support.tls_servers import (
    CERTIFICATE_ROLE,
    TlsPostgres,
    TlsRedis,
    make_cluster,
    postgres_workspace,
    running_postgres,
    running_redis,
)

POSTGRES_PASSWORD = "pg-" + secrets.token_urlsafe(12)
CERTIFICATE_ROLE_PASSWORD = "pg-client-" + secrets.token_urlsafe(12)
REDIS_PASSWORD = "redis-" + secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Certificates:
    ca: Path
    other_ca: Path
    server: KeyPair
    elsewhere: KeyPair
    client: KeyPair


@dataclass(frozen=True)
class Servers:
    certificates: Certificates
    postgres: TlsPostgres
    postgres_elsewhere: TlsPostgres
    redis: TlsRedis
    redis_elsewhere: TlsRedis
    redis_wanting_client_certificates: TlsRedis


@pytest.fixture(scope="package")
def workspace() -> Iterator[Path]:
    with postgres_workspace() as directory:
        yield directory


@pytest.fixture(scope="package")
def certificates(workspace: Path) -> Certificates:
    directory = workspace / "certificates"
    directory.mkdir()
    directory.chmod(0o755)
    ca = Authority.create(directory, "ca")
    return Certificates(
        ca=ca.cert,
        other_ca=Authority.create(directory, "other-ca").cert,
        server=ca.issue_server(directory, "server", ["127.0.0.1", "localhost"]),
        elsewhere=ca.issue_server(directory, "elsewhere", ["db.elsewhere.example"]),
        client=ca.issue_client(directory, "client", CERTIFICATE_ROLE),
    )


@pytest.fixture(scope="package")
async def servers(workspace: Path, certificates: Certificates) -> AsyncIterator[Servers]:
    template = make_cluster(workspace, POSTGRES_PASSWORD)
    ca = certificates.ca
    with (
        running_postgres(workspace, template, "postgres", certificates.server, ca) as postgres,
        running_postgres(workspace, template, "elsewhere", certificates.elsewhere, ca) as other,
        running_redis(workspace, "redis", certificates.server, ca, REDIS_PASSWORD) as redis,
        running_redis(
            workspace, "redis-elsewhere", certificates.elsewhere, ca, REDIS_PASSWORD
        ) as redis_elsewhere,
        running_redis(
            workspace,
            "redis-mtls",
            certificates.server,
            ca,
            REDIS_PASSWORD,
            client_certificates=True,
        ) as redis_mtls,
    ):
        # Administered over the Unix socket, which pg_hba trusts; TCP takes TLS only.
        admin = await asyncpg.connect(
            host=str(postgres.socket_directory), port=postgres.port, user="postgres"
        )
        try:
            await admin.execute(
                f"CREATE ROLE {CERTIFICATE_ROLE} LOGIN PASSWORD '{CERTIFICATE_ROLE_PASSWORD}'"
            )
            await admin.execute(f"CREATE DATABASE {CERTIFICATE_ROLE} OWNER {CERTIFICATE_ROLE}")
        finally:
            await admin.close()
        yield Servers(certificates, postgres, other, redis, redis_elsewhere, redis_mtls)
