"""The Opstage agent token follows the keyring: counted per key, rewrapped with its binding
(agent code and backend), reused after a restart on the new key alone, and a key only it uses
is named by readiness."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from grpc_health.v1 import health_pb2

from integration_api.config import OperationsSettings
from integration_api.credentials.key_status import key_status
from integration_api.credentials.rewrap import rewrap_all
from integration_api.store.database import ConnectionPool
from integration_api.vault import Envelope, Keyring, generate_key
from tests.fakes.opstage import FakeOpstage
from tests.fakes.server import FakeServer
from tests.support.health_client import check_status
from tests.support.service import RunningService, running_service

OLD, NEW, LOST = generate_key(), generate_key(), generate_key()
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def key_id_of(key: str) -> str:
    return Keyring.from_settings(key).primary_key_id


async def until(condition: Callable[[], object], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


@asynccontextmanager
async def opstage_backend() -> AsyncIterator[tuple[FakeOpstage, str]]:
    """A fake Opstage backend and a registration token it issued."""
    async with FakeServer() as server:
        opstage = FakeOpstage(server)
        yield opstage, opstage.issue_registration_token()


@asynccontextmanager
async def agent_service(
    dsn: str, opstage: FakeOpstage, registration_token: str, **keys: Any
) -> AsyncIterator[RunningService]:
    settings = OperationsSettings(
        health_check_interval_seconds=0,
        lease_retry_seconds=0.05,
        opstage_url=opstage.server.url,
        opstage_registration_token=registration_token,
        opstage_agent_code="integration-api-keys",
        opstage_timeout_seconds=1.0,
        opstage_backoff_initial_seconds=0.05,
        opstage_backoff_max_seconds=0.2,
    )
    async with running_service(dsn, operations=settings, **keys) as service:
        yield service


async def test_the_agent_token_is_rewrapped_and_reused_with_the_new_key_alone(
    empty_database_dsn: str, pool: ConnectionPool
) -> None:
    shared = {"secret": secrets.token_urlsafe(48)}
    async with opstage_backend() as (opstage, token):
        async with agent_service(empty_database_dsn, opstage, token, crypto_key=OLD, **shared):
            await until(lambda: opstage.agents and opstage.only_agent().status == "ONLINE")

        status = await key_status(pool, Keyring.from_settings(NEW, OLD))
        [on_old] = [usage for usage in status.keys if usage.key_id == key_id_of(OLD)]
        assert (on_old.rows_in("agent-tokens"), on_old.rows) == (1, 1)
        report = await rewrap_all(pool, Envelope(Keyring.from_settings(NEW, OLD)))
        assert (report.rewrapped_by_store, report.complete) == ({"agent-tokens": 1}, True)
        after = await key_status(pool, Keyring.from_settings(NEW))
        assert [(usage.key_id, usage.rows_in("agent-tokens")) for usage in after.keys] == [
            (key_id_of(NEW), 1)
        ]

        heartbeats = len(opstage.only_agent().heartbeats)
        async with agent_service(
            empty_database_dsn, opstage, token, crypto_key=NEW, **shared
        ) as service:
            assert await check_status(service.channel) == SERVING
            # The registration token is used up: heartbeats prove the stored token opened.
            await until(lambda: len(opstage.only_agent().heartbeats) > heartbeats)
    assert (len(opstage.agents), opstage.registration_tokens[token]) == (1, "USED")


async def test_readiness_names_a_key_id_only_the_agent_token_uses(
    empty_database_dsn: str,
) -> None:
    async with opstage_backend() as (opstage, token):
        async with agent_service(empty_database_dsn, opstage, token, crypto_key=LOST):
            await until(lambda: opstage.agents and opstage.only_agent().status == "ONLINE")
        async with agent_service(empty_database_dsn, opstage, token, crypto_key=NEW) as service:
            assert await check_status(service.channel) == NOT_SERVING
            assert service.app.readiness is not None
            assert service.app.readiness.failures == {
                "keyring": "the database holds Opstage agent tokens encrypted under key id(s) "
                f"{key_id_of(LOST)} that INTEGRATION_CRYPTO_KEY/INTEGRATION_CRYPTO_KEYS lack"
            }
