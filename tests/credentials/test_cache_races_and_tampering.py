"""A cached row can neither outlive a disable or delete nor be edited in Redis into use.

The reader is held between its PostgreSQL read and its cache write while the credential is
disabled or deleted, then released: its late write must not bring the old row back. And an
entry edited in Redis (status, base_url) must not decide where a key goes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
import redis.asyncio as redis
from integration_api_proto.integration.v1 import (
    ChatRequest,
    DeleteCredentialRequest,
    DisableCredentialRequest,
)
from integration_api_proto.integration.v1.grpc_aio import CredentialServiceStub, LlmServiceStub

from integration_api.config import RedisSettings
from integration_api.credentials.cache import CacheLookup, CredentialCache, FillTicket
from integration_api.credentials.usage import CredentialResolver
from integration_api.errors import FailedPrecondition, NotFound
from integration_api.principal import Tenant
from integration_api.store.models import CredentialRow
from tests.credentials.conftest import new_openai_key
from tests.credentials.helpers import openai_request
from tests.fakes.server import FakeServer
from tests.llm.support import user_says
from tests.support.service import (
    DEFAULT_ORGANIZATION,
    DEFAULT_PROJECT,
    RunningService,
    running_service,
)

TENANT = Tenant(DEFAULT_ORGANIZATION, DEFAULT_PROJECT)
# Long enough for the change notification to reach this replica's listener first, so that the
# held write is the last thing to touch the cache (as in the race being reproduced).
NOTIFICATION_SETTLE_SECONDS = 0.3


class HeldFill:
    """The service's own cache, with each write held until the test releases it."""

    def __init__(self, cache: CredentialCache) -> None:
        self._cache = cache
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def get(self, credential_id: str) -> CacheLookup:
        return await self._cache.get(credential_id)

    async def put(self, row: CredentialRow, ticket: FillTicket) -> None:
        self.reached.set()
        await self.release.wait()
        await self._cache.put(row, ticket)

    async def invalidate(self, credential_id: str) -> None:
        await self._cache.invalidate(credential_id)

    async def clear(self) -> None:
        await self._cache.clear()

    async def close(self) -> None:
        await self._cache.close()


@asynccontextmanager
async def service_with(
    cache_kind: str, dsn: str, redis_prefix: str
) -> AsyncIterator[RunningService]:
    overrides: dict[str, Any] = {}
    if cache_kind == "redis":
        overrides["redis"] = RedisSettings(host="127.0.0.1", port=6379, key_prefix=redis_prefix)
    async with running_service(dsn, **overrides) as service:
        yield service


async def _create(service: RunningService, base_url: str) -> str:
    stub = CredentialServiceStub(service.channel)
    request = openai_request(new_openai_key(), base_url, skip_verification=True)
    return (await stub.create_credential(request, metadata=service.auth())).credential.id


@pytest.mark.parametrize("cache_kind", ["memory", "redis"])
@pytest.mark.parametrize("change", ["disable", "delete"])
async def test_a_read_racing_a_change_does_not_put_the_old_row_back(
    empty_database_dsn: str, redis_prefix: str, cache_kind: str, change: str
) -> None:
    async with service_with(cache_kind, empty_database_dsn, redis_prefix) as service:
        credential_id = await _create(service, "http://127.0.0.1:9")
        runtime = service.app.runtime
        held = HeldFill(runtime.cache)
        reader = CredentialResolver(runtime.database, runtime.envelope, held)
        racing = asyncio.create_task(reader.resolve_for_use(TENANT, credential_id))
        await held.reached.wait()  # the reader has the active row from PostgreSQL
        stub = CredentialServiceStub(service.channel)
        if change == "disable":
            await stub.disable_credential(
                DisableCredentialRequest(id=credential_id), metadata=service.auth()
            )
        else:
            await stub.delete_credential(
                DeleteCredentialRequest(id=credential_id), metadata=service.auth()
            )
        await asyncio.sleep(NOTIFICATION_SETTLE_SECONDS)
        held.release.set()
        assert (await racing).id == credential_id  # it read before the change: fine once
        refused = FailedPrecondition if change == "disable" else NotFound
        with pytest.raises(refused):
            await runtime.credential_ops.resolve_for_use(TENANT, credential_id)


async def _chat_refused(service: RunningService, credential_id: str) -> grpc.StatusCode:
    stream = LlmServiceStub(service.channel).chat(
        ChatRequest(credential_id=credential_id, messages=user_says()), metadata=service.auth()
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _chunk in stream:
            pass
    return raised.value.code()


def _edited(entry: bytes, **changes: Any) -> bytes:
    """The entry with its row's fields changed and its tag kept, as Redis access allows."""
    *head, payload = entry.split(b".", 3)
    data = json.loads(payload)
    data["row"].update(changes)
    return b".".join([*head, json.dumps(data).encode()])


async def test_an_entry_edited_in_redis_does_not_send_the_key_anywhere(
    empty_database_dsn: str, redis_prefix: str, capfd: pytest.CaptureFixture[str]
) -> None:
    async with (
        FakeServer() as elsewhere,
        service_with("redis", empty_database_dsn, redis_prefix) as service,
    ):
        credential_id = await _create(service, "http://127.0.0.1:9")
        await CredentialServiceStub(service.channel).disable_credential(
            DisableCredentialRequest(id=credential_id), metadata=service.auth()
        )
        operations = service.app.runtime.credential_ops
        client = redis.Redis(host="127.0.0.1", port=6379)
        key = f"{redis_prefix}credential:{credential_id}"
        try:
            # Caches the disabled row; the disable's own change notification may still drop a
            # first copy, so read until one stays.
            entry = None
            for _attempt in range(50):
                with pytest.raises(FailedPrecondition):
                    await operations.resolve_for_use(TENANT, credential_id)
                entry = await client.get(key)
                if entry is not None:
                    break
                await asyncio.sleep(0.05)
            assert isinstance(entry, bytes)
            redirected = {"base_url": elsewhere.url + "/v1", "default_model": "gpt-4o-mini"}
            edited = _edited(entry, status="active", config=redirected)
            codes = []
            for _call in range(3):
                await client.set(key, edited)
                codes.append(await _chat_refused(service, credential_id))
        finally:
            await client.aclose()
        assert elsewhere.requests == []
        assert codes == [grpc.StatusCode.FAILED_PRECONDITION] * 3
    logs = capfd.readouterr()
    assert (logs.out + logs.err).count("cached credential entry failed authentication") == 1
