"""TLS to PostgreSQL and Redis: the configured PEM files checked at start-up, each driver's options.

PostgreSQL: asyncpg reads libpq's parameters (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`)
from the DSN and follows libpq's rules, so `verify-ca` checks the certificate chain only,
`verify-full` also the host name, and `require` with a CA file checks the chain like
`verify-ca`. Carried in the DSN, they reach every connection the service opens: the pool, the
change listener, the leader lease and the workers of `serve --workers`.

Redis: redis-py's own options, with the chain and the host name always verified.

`check_store_tls` loads every configured file into a throw-away `SSLContext` the way the
drivers will, so a missing, unreadable or malformed file stops the start with its setting and
path named, instead of every connection failing later with a message about something else.
"""

from __future__ import annotations

import ssl
from typing import TypedDict

from integration_api.config import ConfigError, PostgresSettings, RedisSettings
from integration_api.store.database import SSL_MODES

# The modes in which a CA file is used; below `require` libpq never checks the certificate.
_CHECKING_MODES = ("require", "verify-ca", "verify-full")


class RedisTlsOptions(TypedDict, total=False):
    """Keyword arguments of `redis.asyncio.Redis` for TLS."""

    ssl: bool
    ssl_cert_reqs: str
    ssl_check_hostname: bool
    ssl_ca_certs: str | None
    ssl_certfile: str | None
    ssl_keyfile: str | None
    ssl_min_version: ssl.TLSVersion


def postgres_dsn_parameters(postgres: PostgresSettings) -> dict[str, str]:
    """The libpq TLS parameters that go into the DSN next to `sslmode`."""
    parameters = {
        "sslrootcert": postgres.ssl_root_cert,
        "sslcert": postgres.ssl_cert,
        "sslkey": postgres.ssl_key,
    }
    return {name: value for name, value in parameters.items() if value}


def redis_tls_options(redis: RedisSettings) -> RedisTlsOptions:
    """redis-py's TLS options; empty when REDIS__TLS is off."""
    if not redis.tls:
        return {}
    return RedisTlsOptions(
        ssl=True,
        ssl_cert_reqs="required",
        ssl_check_hostname=True,
        # Empty: the system's CAs, for a managed Redis with a publicly trusted certificate.
        ssl_ca_certs=redis.tls_ca_cert or None,
        ssl_certfile=redis.tls_cert or None,
        ssl_keyfile=redis.tls_key or None,
        ssl_min_version=ssl.TLSVersion.TLSv1_2,
    )


def check_store_tls(postgres: PostgresSettings, redis: RedisSettings) -> None:
    """Raise ConfigError naming the setting (and path) of the first TLS problem."""
    if not postgres.embedded:
        _check_postgres(postgres)
    if redis.enabled:
        _check_redis(redis)


def _check_postgres(postgres: PostgresSettings) -> None:
    mode = postgres.ssl_mode
    if mode not in SSL_MODES:
        raise ConfigError(f"POSTGRES__SSL_MODE must be one of: {', '.join(SSL_MODES)}")
    if mode in ("verify-ca", "verify-full") and not postgres.ssl_root_cert:
        raise ConfigError(
            f"POSTGRES__SSL_MODE={mode} needs POSTGRES__SSL_ROOT_CERT, the CA certificate file "
            "the server's certificate must chain to"
        )
    if postgres.ssl_root_cert and mode not in _CHECKING_MODES:
        raise ConfigError(
            f"POSTGRES__SSL_ROOT_CERT is set but POSTGRES__SSL_MODE={mode} never checks the "
            "server's certificate; use verify-full (or verify-ca)"
        )
    if postgres.ssl_cert and mode == "disable":
        raise ConfigError("POSTGRES__SSL_CERT is set but POSTGRES__SSL_MODE=disable")
    _check_files(
        ("POSTGRES__SSL_ROOT_CERT", postgres.ssl_root_cert),
        ("POSTGRES__SSL_CERT", postgres.ssl_cert),
        ("POSTGRES__SSL_KEY", postgres.ssl_key),
    )


def _check_redis(redis: RedisSettings) -> None:
    if not redis.tls:
        named = [
            setting
            for setting, path in (
                ("REDIS__TLS_CA_CERT", redis.tls_ca_cert),
                ("REDIS__TLS_CERT", redis.tls_cert),
                ("REDIS__TLS_KEY", redis.tls_key),
            )
            if path
        ]
        if named:
            raise ConfigError(f"{named[0]} is set but REDIS__TLS is not true")
        return
    _check_files(
        ("REDIS__TLS_CA_CERT", redis.tls_ca_cert),
        ("REDIS__TLS_CERT", redis.tls_cert),
        ("REDIS__TLS_KEY", redis.tls_key),
    )


def _check_files(ca: tuple[str, str], cert: tuple[str, str], key: tuple[str, str]) -> None:
    """Loads the files as the drivers will: the CA as trust anchors, the certificate with its
    key (a key may also sit in the certificate's file)."""
    for setting, path in (ca, cert, key):
        if path:
            _require_readable(setting, path)
    if key[1] and not cert[1]:
        raise ConfigError(f"{key[0]} is set without {cert[0]}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca[1]:
        try:
            context.load_verify_locations(cafile=ca[1])
        except ssl.SSLError:
            raise ConfigError(f"{ca[0]}: {ca[1]} holds no PEM certificate") from None
    if cert[1]:
        try:
            # An encrypted key would make OpenSSL prompt on the terminal; refuse it instead.
            context.load_cert_chain(cert[1], key[1] or None, password=_no_password)
        except ssl.SSLError as error:
            raise ConfigError(
                f"{cert[0]} and {key[0]}: {cert[1]} and {key[1] or cert[1]} are not a PEM "
                f"certificate and its unencrypted private key ({error.reason or error})"
            ) from None


def _require_readable(setting: str, path: str) -> None:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as error:
        raise ConfigError(f"{setting}: cannot read {path}: {error.strerror}") from None


def _no_password() -> bytes:
    return b""
