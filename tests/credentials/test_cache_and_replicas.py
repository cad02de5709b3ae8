"""The cache is never the truth: Redis may die mid-run; a disable reaches every replica at once."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from grpc_health.v1 import health_pb2
from integration_api_proto.integration.v1 import DisableCredentialRequest, GetCredentialRequest
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.config import RedisSettings
from integration_api.errors import FailedPrecondition
from integration_api.principal import Tenant
from integration_api.vault import generate_key
from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import openai_request
from tests.support.health_client import check_status
from tests.support.service import DEFAULT_ORGANIZATION, DEFAULT_PROJECT, running_service

TENANT = Tenant(DEFAULT_ORGANIZATION, DEFAULT_PROJECT)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def private_redis() -> AsyncIterator[tuple[int, asyncio.subprocess.Process]]:
    """A redis-server of this test's own, so the test can stop it without harming others."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = await asyncio.create_subprocess_exec(
            *[
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                directory,
            ],
            stdout=asyncio.subprocess.DEVNULL,
        )
        try:
            for _attempt in range(100):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                        break
                except OSError:
                    await asyncio.sleep(0.05)
            yield port, process
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()


async def test_reads_fall_through_to_postgres_when_redis_dies(
    empty_database_dsn: str, capfd: pytest.CaptureFixture[str]
) -> None:
    async with private_redis() as (port, redis_process):
        settings = RedisSettings(host="127.0.0.1", port=port, key_prefix="t:")
        async with running_service(empty_database_dsn, redis=settings) as service:
            stub = CredentialServiceStub(service.channel)
            request = openai_request(new_openai_key(), "http://127.0.0.1:9", skip_verification=True)
            created = (await stub.create_credential(request, metadata=service.auth())).credential
            operations = service.app.runtime.credential_ops
            await operations.resolve_for_use(TENANT, created.id)  # cached in Redis now
            redis_process.terminate()
            await redis_process.wait()
            for _round in range(3):
                resolved = await operations.resolve_for_use(TENANT, created.id)
                assert resolved.id == created.id
            await stub.disable_credential(
                DisableCredentialRequest(id=created.id), metadata=service.auth()
            )
            with pytest.raises(FailedPrecondition):
                await operations.resolve_for_use(TENANT, created.id)
            fetched = await stub.get_credential(
                GetCredentialRequest(id=created.id), metadata=service.auth()
            )
            assert fetched.credential.id == created.id
            serving = health_pb2.HealthCheckResponse.SERVING
            assert await check_status(service.channel) == serving
    logs = capfd.readouterr()
    assert (logs.out + logs.err).count("redis unreachable") == 1


async def test_disable_on_one_replica_is_refused_on_another_at_once(
    empty_database_dsn: str,
) -> None:
    # Two replicas share PostgreSQL, the keyring and SECRET; each has its own in-process cache.
    shared = {"crypto_key": generate_key()}
    async with (
        running_service(empty_database_dsn, **shared) as replica_a,
        running_service(
            empty_database_dsn, secret=replica_a.settings.secret, **shared
        ) as replica_b,
    ):
        stub_a = CredentialServiceStub(replica_a.channel)
        request = openai_request(
            new_openai_key(), "http://127.0.0.1:9", name="shared", skip_verification=True
        )
        created = (await stub_a.create_credential(request, metadata=replica_a.auth())).credential
        on_b = replica_b.app.runtime.credential_ops
        assert (await on_b.resolve_for_use(TENANT, created.id)).id == created.id  # B caches it
        await stub_a.disable_credential(
            DisableCredentialRequest(id=created.id), metadata=replica_a.auth()
        )
        refused_after = None
        for attempt in range(80):
            try:
                await on_b.resolve_for_use(TENANT, created.id)
            except FailedPrecondition:
                refused_after = attempt
                break
            await asyncio.sleep(0.025)
        assert refused_after is not None, "replica B kept serving a disabled credential"
        # Notified (typically within milliseconds), not after the cache's 300 s TTL.
        assert refused_after * 0.025 <= 1.0
