"""PostgreSQL 15 and Redis servers with TLS on, started for tests on free ports in temp dirs.

PostgreSQL accepts TLS only (`hostssl` lines alone in pg_hba.conf): a plain connection is
refused, so a test that connects proves TLS was used. Its cluster is made once and copied for
each server; as root, its programs run as the `postgres` OS user (PostgreSQL refuses to run as
root), otherwise as the current user.
Redis listens on its TLS port only (`--port 0`) and requires a password.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.certificates import KeyPair

POSTGRES_BIN = Path(os.environ.get("TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
POSTGRES_OS_USER = "postgres"
# The role that must present a client certificate (pg_hba `clientcert=verify-full`).
CERTIFICATE_ROLE = "tls_client"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"{what} never listened on port {port}")


def _as_postgres(*command: str) -> None:
    as_user = ["runuser", "-u", POSTGRES_OS_USER, "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_user, *command],
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def postgres_workspace() -> Iterator[Path]:
    """A directory PostgreSQL may run in (as root: one the `postgres` OS user owns, since
    pytest's own temp dirs are root's, mode 0700)."""
    directory = Path(tempfile.mkdtemp(prefix="tls-postgres-"))
    _own(directory)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def make_cluster(workspace: Path, superuser_password: str) -> Path:
    """An initialised cluster to copy; the superuser `postgres` authenticates with a password."""
    password_file = workspace / "password"
    password_file.write_text(superuser_password + "\n")
    _own(password_file)
    template = workspace / "template"
    _as_postgres(
        str(POSTGRES_BIN / "initdb"),
        "-D",
        str(template),
        "-U",
        "postgres",
        f"--pwfile={password_file}",
        "--auth=scram-sha-256",
        "--no-sync",
        "--no-instructions",
        "-E",
        "UTF8",
        "--locale=C",
    )
    password_file.unlink()
    return template


@dataclass(frozen=True)
class TlsPostgres:
    port: int
    socket_directory: Path
    log: Path


@contextmanager
def running_postgres(
    workspace: Path, template: Path, name: str, server: KeyPair, ca: Path
) -> Iterator[TlsPostgres]:
    """A copy of `template` serving TLS with `server`'s certificate; client certificates are
    checked against `ca`."""
    data = workspace / name
    _as_postgres("cp", "-a", str(template), str(data))
    for source, target in ((server.cert, "server.crt"), (server.key, "server.key"), (ca, "ca.crt")):
        shutil.copyfile(source, data / target)
        (data / target).chmod(0o600)
        _own(data / target)
    port = free_port()
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        f"hostssl all {CERTIFICATE_ROLE} 127.0.0.1/32 scram-sha-256 clientcert=verify-full\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n"
    )
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{data}'\n"
            "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
            "ssl_ca_file = 'ca.crt'\nfsync = off\nlog_connections = on\n"
        )
    log = workspace / f"{name}.log"
    _as_postgres("touch", str(log))
    pg_ctl = str(POSTGRES_BIN / "pg_ctl")
    _as_postgres(pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "start")
    try:
        yield TlsPostgres(port, data, log)
    finally:
        _as_postgres(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")


def _own(path: Path) -> None:
    """Hands a file to the user PostgreSQL runs as."""
    if os.geteuid() == 0:
        account = pwd.getpwnam(POSTGRES_OS_USER)
        os.chown(path, account.pw_uid, account.pw_gid)


@dataclass(frozen=True)
class TlsRedis:
    port: int
    log: Path


@contextmanager
def running_redis(
    directory: Path,
    name: str,
    server: KeyPair,
    ca: Path,
    password: str,
    *,
    client_certificates: bool = False,
) -> Iterator[TlsRedis]:
    """redis-server on a TLS port only; `client_certificates` makes it require one."""
    port = free_port()
    log = directory / f"{name}.log"
    # The settings go in through stdin so that the password is not on a command line.
    config = "\n".join(
        [
            "port 0",
            f"tls-port {port}",
            "bind 127.0.0.1",
            f"tls-cert-file {server.cert}",
            f"tls-key-file {server.key}",
            f"tls-ca-cert-file {ca}",
            f"tls-auth-clients {'yes' if client_certificates else 'no'}",
            f'requirepass "{password}"',
            'save ""',
            "appendonly no",
            f"dir {directory}",
            f"logfile {log}",
        ]
    )
    process = subprocess.Popen(["redis-server", "-"], stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(config.encode())
    process.stdin.close()
    try:
        _wait_listening(port, f"redis {name}")
        yield TlsRedis(port, log)
    finally:
        process.terminate()
        process.wait(10)
