"""Connection pools and DSNs for PostgreSQL.

A DSN carries the database password: hand it to `create_pool` and nowhere else. Logs and error
messages name the database with `describe_dsn`, which leaves the credentials out.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote, unquote, urlencode, urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# asyncpg's classes are generic only in their type stubs, so the subscripted forms exist for the
# type checker alone; at run time the aliases name the plain classes.
if TYPE_CHECKING:
    ConnectionPool: TypeAlias = asyncpg.Pool[asyncpg.Record]
    DatabaseConnection: TypeAlias = (
        asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    )
else:
    ConnectionPool = asyncpg.Pool
    DatabaseConnection = asyncpg.Connection | PoolConnectionProxy

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


# What asyncpg raises when the server cannot be reached or the connection broke; a caller can
# retry these, unlike errors in what was asked (constraint violations, bad SQL).
_UNREACHABLE = (
    ConnectionError,
    socket.gaierror,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` means the database is out of reach (not that the request was wrong)."""
    return isinstance(error, _UNREACHABLE)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key derived from a name, so keys never collide by
    accident with another component's locks in the same database."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def create_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    connect_timeout: float = 5.0,
    command_timeout: float | None = 30.0,
) -> ConnectionPool:
    """Open a pool whose connections map JSON and JSONB columns to and from Python values.

    The timeouts are finite so that a database outage turns into a fast error instead of a
    request hanging until the caller's deadline.
    """
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        timeout=connect_timeout,
        command_timeout=command_timeout,
        init=_register_json_codecs,
    )


async def _register_json_codecs(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, schema="pg_catalog", encoder=_encode_json, decoder=json.loads
        )


def _encode_json(value: Any) -> str:
    # allow_nan=False: PostgreSQL rejects NaN in JSON, better to fail here with a clear error.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dsn_from_parts(
    host: str,
    port: int | str,
    database: str,
    user: str,
    password: str = "",
    ssl_mode: str = "",
    tls: Mapping[str, str] | None = None,
) -> str:
    """Build a DSN from the POSTGRES__HOST, __PORT, __DB_NAME, __AUTH__USER, __AUTH__PASSWORD
    and __SSL_MODE settings, and libpq's TLS file parameters in `tls` (`sslrootcert`, …).
    A host starting with `/` is a directory holding the Unix socket.
    """
    if ssl_mode and ssl_mode not in SSL_MODES:
        raise ValueError(f"POSTGRES__SSL_MODE must be one of: {', '.join(SSL_MODES)}")
    credentials = quote(user, safe="")
    if password:
        credentials += ":" + quote(password, safe="")
    query: dict[str, str] = {}
    if host.startswith("/"):
        network_location = credentials + "@"
        query = {"host": host, "port": str(port)}
    else:
        bracketed_host = f"[{host}]" if ":" in host else host
        network_location = f"{credentials}@{bracketed_host}:{port}"
    if ssl_mode:
        query["sslmode"] = ssl_mode
    query.update(tls or {})
    dsn = f"postgresql://{network_location}/{quote(database, safe='')}"
    return f"{dsn}?{urlencode(query)}" if query else dsn


def describe_dsn(dsn: str) -> str:
    """`host:port/database` of a DSN, without user or password: safe to log."""
    parts = urlsplit(dsn)
    host = parts.hostname or "local socket"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"


def dsn_password(dsn: str) -> str:
    """The password inside a DSN (empty when none), for masking it in messages."""
    return unquote(urlsplit(dsn).password or "")
