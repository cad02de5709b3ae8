"""The shared credential cache over TLS, against a Redis with a TLS port only and a password."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from structlog.testing import capture_logs

from integration_api.cache import RedisCredentialCache
from integration_api.config import load_settings
from integration_api.credentials.cache import CacheLookup
from integration_api.tls import check_store_tls
from integration_api.vault import Keyring
from tests.cache.conftest import credential_row
from tests.store_tls.conftest import REDIS_PASSWORD, Servers
from tests.support.tls_servers import TlsRedis


def _cache(server: TlsRedis, **env: str) -> RedisCredentialCache:
    """The cache as the service builds it from these variables."""
    variables = {
        "REDIS__HOST": "127.0.0.1",
        "REDIS__PORT": str(server.port),
        "REDIS__AUTH__PASSWORD": REDIS_PASSWORD,
        "REDIS__KEY_PREFIX": f"tls-test:{os.urandom(4).hex()}:",
        **env,
    }
    settings = load_settings(variables)
    check_store_tls(settings.postgres, settings.redis)
    return RedisCredentialCache.from_settings(settings.redis, 300, Keyring(os.urandom(32)))


async def _round_trip(cache: RedisCredentialCache) -> tuple[bool, list[MutableMapping[str, Any]]]:
    """Whether a row put in the cache comes back, and what the cache logged meanwhile."""
    row = credential_row()
    with capture_logs() as logs:
        try:
            miss: CacheLookup = await cache.get(row.id)
            await cache.put(row, miss.ticket)
            hit = await cache.get(row.id)
        finally:
            await cache.close()
    return hit.row == row, logs


def _reason(logs: list[MutableMapping[str, Any]]) -> str:
    [warning] = [entry for entry in logs if entry["event"].startswith("redis unreachable")]
    return str(warning["reason"])


async def test_the_cache_works_over_tls_with_a_password(servers: Servers) -> None:
    cache = _cache(
        servers.redis, REDIS__TLS="true", REDIS__TLS_CA_CERT=str(servers.certificates.ca)
    )
    stored, logs = await _round_trip(cache)
    assert stored, logs
    assert logs == []


async def test_the_server_refuses_plain_connections(servers: Servers) -> None:
    stored, logs = await _round_trip(_cache(servers.redis))
    assert not stored
    assert _reason(logs) == f"127.0.0.1:{servers.redis.port}: connection reset by the server"


async def test_a_certificate_for_another_host_is_refused(servers: Servers) -> None:
    cache = _cache(
        servers.redis_elsewhere,
        REDIS__HOST="localhost",
        REDIS__TLS="true",
        REDIS__TLS_CA_CERT=str(servers.certificates.ca),
    )
    stored, logs = await _round_trip(cache)
    assert not stored
    assert _reason(logs) == (
        f"localhost:{servers.redis_elsewhere.port}: certificate verify failed: "
        "Hostname mismatch, certificate is not valid for 'localhost'"
    )


async def test_a_server_certificate_from_another_ca_is_refused(servers: Servers) -> None:
    cache = _cache(
        servers.redis, REDIS__TLS="true", REDIS__TLS_CA_CERT=str(servers.certificates.other_ca)
    )
    stored, logs = await _round_trip(cache)
    assert not stored
    assert _reason(logs).endswith(
        "certificate verify failed: self-signed certificate in certificate chain"
    )


async def test_a_client_certificate_is_presented_when_the_server_asks_for_one(
    servers: Servers,
) -> None:
    certificates = servers.certificates
    server = servers.redis_wanting_client_certificates
    without = _cache(server, REDIS__TLS="true", REDIS__TLS_CA_CERT=str(certificates.ca))
    stored, logs = await _round_trip(without)
    assert not stored
    # In TLS 1.3 the client's handshake is over before the server checks for a certificate:
    # its alert either arrives first or, when the client's first command crossed it, the
    # server has already reset the connection. Both are the server refusing this client.
    assert _reason(logs).endswith(
        ("TLS failed: tlsv13 alert certificate required", "connection reset by the server")
    ), logs
    with_certificate = _cache(
        server,
        REDIS__TLS="true",
        REDIS__TLS_CA_CERT=str(certificates.ca),
        REDIS__TLS_CERT=str(certificates.client.cert),
        REDIS__TLS_KEY=str(certificates.client.key),
    )
    stored, logs = await _round_trip(with_certificate)
    assert stored, logs


async def test_a_wrong_password_is_named_as_the_cause_and_never_logged(servers: Servers) -> None:
    wrong = "wrong-" + REDIS_PASSWORD[::-1]
    cache = _cache(
        servers.redis,
        REDIS__TLS="true",
        REDIS__TLS_CA_CERT=str(servers.certificates.ca),
        REDIS__AUTH__PASSWORD=wrong,
    )
    stored, logs = await _round_trip(cache)
    assert not stored
    assert _reason(logs) == (
        f"127.0.0.1:{servers.redis.port}: invalid username-password pair or user is disabled."
    )
    assert wrong not in repr(logs) and REDIS_PASSWORD not in repr(logs)
