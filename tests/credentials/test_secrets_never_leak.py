"""A canary key goes through every path; it must appear nowhere but in the provider's requests.

Nowhere: not in logs at any level (debug included), not in any gRPC status message or detail,
not in Redis, not in a pg_dump of the database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import subprocess
from collections.abc import Iterator

import grpc
import pytest
import redis.asyncio as redis
import structlog
from integration_api_proto.integration.v1 import (
    ApiKeySecret,
    CredentialConfig,
    CredentialSecret,
    DisableCredentialRequest,
    EnableCredentialRequest,
    RotateCredentialRequest,
    VerifyCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub

from integration_api.config import RedisSettings
from integration_api.observability.logging import configure_logging
from integration_api.principal import Tenant
from tests.credentials.helpers import openai_request
from tests.fakes import provider_apis
from tests.fakes.server import FakeServer
from tests.support.service import DEFAULT_ORGANIZATION, DEFAULT_PROJECT, running_service


def _canary() -> str:
    return "sk-proj-CANARY" + secrets.token_hex(16)


async def _expect_failure(call: object, seen: list[bytes]) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    error = raised.value
    seen.append((error.details() or "").encode())
    for _key, value in error.trailing_metadata() or ():
        seen.append(value if isinstance(value, bytes) else value.encode())


async def _redis_values(prefix: str) -> list[bytes]:
    """Every key and value under the prefix; each entry must carry a TTL."""
    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        for key in keys:
            assert await client.ttl(key) > 0, "a cache entry without a TTL"
        values = [await client.get(key) for key in keys]
        return [key for key in keys] + [value for value in values if value is not None]
    finally:
        await client.aclose()


def _pg_dump(dsn: str) -> bytes:
    return subprocess.run(
        ["pg_dump", "--data-only", "--inserts", dsn], check=True, capture_output=True, timeout=60
    ).stdout


@pytest.fixture
def debug_logging() -> Iterator[None]:
    configure_logging("debug", "json")
    yield
    structlog.reset_defaults()
    configure_logging("info", "console")


@pytest.mark.usefixtures("debug_logging")
async def test_canary_key_never_leaks(
    empty_database_dsn: str,
    redis_prefix: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    canary, rotated_canary = _canary(), _canary()
    accepted = {canary}
    seen_in_statuses: list[bytes] = []
    async with FakeServer() as fake:
        provider_apis.OPENAI.install(fake, accepted)
        redis_settings = RedisSettings(host="127.0.0.1", port=6379, key_prefix=redis_prefix)
        async with running_service(empty_database_dsn, redis=redis_settings) as service:
            stub = CredentialServiceStub(service.channel)
            auth = service.auth()
            created = (
                await stub.create_credential(openai_request(canary, fake.url), metadata=auth)
            ).credential
            resolver = service.app.runtime.credential_ops
            tenant = Tenant(DEFAULT_ORGANIZATION, DEFAULT_PROJECT)
            assert (await resolver.resolve_for_use(tenant, created.id)).secret.key == canary
            await stub.verify_credential(VerifyCredentialRequest(id=created.id), metadata=auth)
            rotate = RotateCredentialRequest(
                id=created.id, secret=CredentialSecret(api_key=ApiKeySecret(key=rotated_canary))
            )
            fake.echo_credentials = True  # the provider quotes the refused key in full
            await _expect_failure(stub.rotate_credential(rotate, metadata=auth), seen_in_statuses)
            await _expect_failure(
                stub.create_credential(
                    openai_request(rotated_canary, fake.url, name="x"), metadata=auth
                ),
                seen_in_statuses,
            )
            fake.answer_with_status(500, {"error": {"message": f"upstream broke for {canary}"}})
            await _expect_failure(
                stub.create_credential(openai_request(canary, fake.url, name="y"), metadata=auth),
                seen_in_statuses,
            )
            fake.behave_normally()
            accepted.add(rotated_canary)
            await stub.rotate_credential(rotate, metadata=auth)
            accepted.clear()
            await stub.verify_credential(VerifyCredentialRequest(id=created.id), metadata=auth)
            bad_input = openai_request(rotated_canary, fake.url, name="z")
            bad_input.config = CredentialConfig(base_url=f"http://user:{canary}@127.0.0.1/v1")
            await _expect_failure(
                stub.create_credential(bad_input, metadata=auth), seen_in_statuses
            )
            await stub.disable_credential(DisableCredentialRequest(id=created.id), metadata=auth)
            await stub.enable_credential(EnableCredentialRequest(id=created.id), metadata=auth)
            await resolver.resolve_for_use(tenant, created.id)
            redis_contents = await _redis_values(redis_prefix)
            dump = await asyncio.to_thread(_pg_dump, empty_database_dsn)
    captured = capfd.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert redis_contents, "the credential row was cached in Redis"
    assert "rpc request" in logs and "<redacted>" in logs, "debug request logging was exercised"
    assert b"INSERT INTO public.credentials" in dump
    for secret in (canary, rotated_canary):
        assert secret not in logs
        assert all(secret.encode() not in blob for blob in seen_in_statuses)
        assert all(secret.encode() not in blob for blob in redis_contents)
        assert secret.encode() not in dump
    # The test saw the canary go out to the provider, so its absence elsewhere means something.
    assert any(canary in r.headers.get("authorization", "") for r in fake.requests)
